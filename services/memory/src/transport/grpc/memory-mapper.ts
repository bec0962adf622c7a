/**
 * Domain memories to their `maestro.v1` messages, and the proto's provenance to the domain's.
 */
import type { Memory as MemoryMessage, MemoryProvenance as ProvenanceMessage, ScoredMemory } from '@maestro/contracts';
import type { Memory, MemoryProvenance } from '../../domain/memory.js';
import type { RecallHit } from '../../domain/rank-fusion.js';

/** Converts a domain memory into the `maestro.v1.Memory` message. */
export function toMemoryMessage(memory: Memory): MemoryMessage {
  return {
    tenant: memory.tenant,
    id: memory.id,
    project: memory.project,
    kind: memory.kind,
    content: memory.content,
    tags: [...memory.tags],
    createdAt: memory.createdAt,
    scope: memory.scope,
    pinned: memory.pinned,
    status: memory.status,
    supersededBy: memory.supersededBy ?? '',
    confidence: memory.confidence,
    expiresAt: memory.expiresAt,
    updatedAt: memory.updatedAt,
    provenance: memory.provenance === undefined ? undefined : toProvenanceMessage(memory.provenance),
    topic: memory.topic,
    confirmations: memory.confirmations,
    author: memory.author,
  };
}

/** Converts one recall hit into the `maestro.v1.ScoredMemory` message. */
export function toScoredMemoryMessage(hit: RecallHit): ScoredMemory {
  return {
    memory: toMemoryMessage(hit.memory),
    score: hit.score,
    why: hit.why,
    keywordRank: hit.keywordRank,
    vectorRank: hit.vectorRank,
  };
}

function toProvenanceMessage(p: MemoryProvenance): ProvenanceMessage {
  return {
    taskId: p.taskId,
    subtaskId: p.subtaskId,
    commitSha: p.commitSha,
    testEvidence: p.testEvidence,
    failingTests: [...p.failingTests],
    failureKind: p.failureKind,
    fix: p.fix,
    files: [...p.files],
    confirmedBy: [...p.confirmedBy],
  };
}
