/**
 * Recall: keyword search and vector search over the project's live memories in the caller's
 * scopes, fused by rank (see `domain/rank-fusion.ts`). The vector half needs the embedder for
 * the query; when it is down (or answers nonsense) recall carries on with keywords alone and
 * says so in `warning`, logged at warn. It never fails because of the embedder.
 */
import { EmbedPurposes } from '@maestro/llm';
import type { Logger } from '@maestro/runtime';
import type { ReflexPolicy } from '../domain/confidence.js';
import type { RecallSpec } from '../domain/memory-requests.js';
import { fuseRecall } from '../domain/rank-fusion.js';
import type { RecallHit, VectorHit } from '../domain/rank-fusion.js';
import { parseRecallQuery } from '../domain/recall-query.js';
import type { RecallQueryParts } from '../domain/recall-query.js';
import type { MemoryStore, RecallFilter } from '../store/memory-store.js';
import { VectorSearchKinds } from '../store/vector-index.js';
import type { VectorIndex, VectorSearchKind } from '../store/vector-index.js';
import type { EmbeddingSpaces } from './embedding-spaces.js';

/** What recall needs. */
export interface RecallDeps {
  store: MemoryStore;
  index: VectorIndex;
  spaces: EmbeddingSpaces;
  policy: ReflexPolicy;
  /** Vector hits below this cosine similarity are not hits. */
  minSimilarity: number;
}

/** A recall's answer (RecallResponse). */
export interface RecallResult {
  readonly hits: RecallHit[];
  /** Why recall was degraded; empty when it was not. */
  readonly warning: string;
  readonly vectorSearch: VectorSearchKind;
}

/**
 * Candidates taken from each list before fusing: enough that a memory ranked low in one list
 * and high in the other still surfaces.
 */
export function candidatePool(limit: number): number {
  return Math.min(200, Math.max(20, limit * 4));
}

/** Recalls the memories that best match `spec` at `now`. */
export async function recallMemories(deps: RecallDeps, spec: RecallSpec, now: Date, logger: Logger): Promise<RecallResult> {
  const filter: RecallFilter = { tenant: spec.tenant, project: spec.project, scopes: spec.scopes, kind: spec.kind, now };
  const query = parseRecallQuery(spec.query);
  const pool = candidatePool(spec.limit);
  const [keyword, vector, pinned] = await Promise.all([
    deps.store.keywordSearch(query, filter, pool),
    vectorHits(deps, query, filter, pool, logger),
    deps.store.pinned(filter, spec.limit),
  ]);
  const recent = keyword.length === 0 && vector.hits.length === 0 ? await deps.store.newest(filter, spec.limit) : [];
  const hits = fuseRecall({ keyword, vector: vector.hits, pinned, recent, limit: spec.limit, now, policy: deps.policy });
  return { hits, warning: vector.warning, vectorSearch: vector.searched };
}

/** The vector list, or none with a warning when the embedder fails. */
async function vectorHits(
  deps: RecallDeps,
  query: RecallQueryParts,
  filter: RecallFilter,
  limit: number,
  logger: Logger,
): Promise<{ hits: VectorHit[]; warning: string; searched: VectorSearchKind }> {
  // Only exclusions (`-redis`): nothing to be similar to.
  if (query.positive === '') return { hits: [], warning: '', searched: VectorSearchKinds.none };
  const embedder = deps.spaces.serving();
  let vector: number[];
  try {
    [vector = []] = await deps.spaces.embed(embedder, [query.positive], EmbedPurposes.query);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    logger.warn('embedder failed; recall is keyword only', { embedder: embedder.id, err });
    return {
      hits: [],
      warning: `vector search skipped, keyword search only: embedder ${embedder.id} failed (${reason})`,
      searched: VectorSearchKinds.none,
    };
  }
  const hits = await deps.index.search({
    embedderId: embedder.id,
    vector,
    filter,
    exclusions: query.exclusions,
    minSimilarity: deps.minSimilarity,
    limit,
  });
  return { hits, warning: '', searched: deps.index.kind };
}
