/**
 * `MemoryRecall` over the memory service's gRPC `Recall`: every kind (preferences, project
 * context, reflexes) of the task's project and of the scopes the query names (the task's users
 * and teams), mapped to the `RecalledMemory` the agent loop and the step events carry.
 */
import type { RecallRequest, RecallResponse, RecalledMemory, ScoredMemory } from '@maestro/contracts';
import type { MemoryRecall, MemoryRecallAnswer, MemoryRecallQuery } from '../domain/ports.js';

/** The one memory method the executor calls (the `call` side of a runtime gRPC client). */
export interface MemoryRecallClient {
  recall(request: RecallRequest, options?: { deadlineMs?: number; signal?: AbortSignal }): Promise<RecallResponse>;
}

/** Recalls through the memory service's gRPC client (`createGrpcClient(MemoryServiceClient, …).call`). */
export class GrpcMemoryRecall implements MemoryRecall {
  constructor(private readonly client: MemoryRecallClient) {}

  async recall(query: MemoryRecallQuery, options: { deadlineMs: number; signal?: AbortSignal }): Promise<MemoryRecallAnswer> {
    const response = await this.client.recall(
      // Every kind (''); `project` is always searched, plus the task's user and team scopes.
      { tenant: query.tenant, project: query.project, query: query.query, limit: query.limit, kind: '', scopes: [...query.scopes] },
      { deadlineMs: options.deadlineMs, ...(options.signal !== undefined ? { signal: options.signal } : {}) },
    );
    return {
      memories: response.memories.flatMap((scored) => {
        const memory = toRecalledMemory(scored);
        return memory !== undefined ? [memory] : [];
      }),
      ...(response.warning !== '' ? { warning: response.warning } : {}),
    };
  }
}

/** A recall hit as the agent gets it (an empty `why` left out); undefined for a hit without its memory. */
export function toRecalledMemory(scored: ScoredMemory): RecalledMemory | undefined {
  const memory = scored.memory;
  if (memory === undefined) return undefined;
  return {
    id: memory.id,
    kind: memory.kind,
    score: scored.score,
    ...(scored.why !== '' ? { why: scored.why } : {}),
    content: memory.content,
  };
}
