/**
 * Hybrid recall's ranking: the keyword list and the vector list are fused by reciprocal rank
 * fusion (each list adds `1 / (k + rank)`, k = 60), times the memory's effective confidence;
 * pinned memories come first whatever the query; when neither list found anything the newest
 * memories stand in (score 0, "recent"). Each hit says why it is there.
 */
import { effectiveConfidence } from './confidence.js';
import type { ReflexPolicy } from './confidence.js';
import type { Memory } from './memory.js';

/** The k of reciprocal rank fusion: 60, as in Cormack et al., damps the head of each list. */
export const RRF_K = 60;

/** One memory in the keyword list (1-based rank, best first). */
export interface KeywordHit {
  readonly memory: Memory;
  readonly rank: number;
  /** `ts_rank_cd` of the match. */
  readonly tsRank: number;
}

/** One memory in the vector list (1-based rank, best first). */
export interface VectorHit {
  readonly memory: Memory;
  readonly rank: number;
  /** Cosine similarity to the query (rounded, see the vector index). */
  readonly similarity: number;
}

/** One recalled memory. */
export interface RecallHit {
  readonly memory: Memory;
  /** Reciprocal rank fusion of the two ranks, times effective confidence; 0 for a pinned or recent stand-in. */
  readonly score: number;
  /** For people: "pinned; keyword rank 1 (ts_rank 0.100); vector rank 3 (cosine 0.71); confidence 0.60". */
  readonly why: string;
  /** 0 when not in that list. */
  readonly keywordRank: number;
  readonly vectorRank: number;
}

/** What {@link fuseRecall} ranks. */
export interface FusionInput {
  readonly keyword: readonly KeywordHit[];
  readonly vector: readonly VectorHit[];
  /** The pinned live memories of the project and scopes (all of them, up to the limit). */
  readonly pinned: readonly Memory[];
  /** The newest live memories, used only when neither list found anything. */
  readonly recent: readonly Memory[];
  readonly limit: number;
  readonly now: Date;
  readonly policy: ReflexPolicy;
}

interface Candidate {
  memory: Memory;
  keyword?: KeywordHit;
  vector?: VectorHit;
}

/** Ranks the candidates: pinned first, then fused hits (or the recent stand-ins), at most `limit`. */
export function fuseRecall(input: FusionInput): RecallHit[] {
  const candidates = new Map<string, Candidate>();
  const entry = (memory: Memory): Candidate => {
    let c = candidates.get(memory.id);
    if (c === undefined) {
      c = { memory };
      candidates.set(memory.id, c);
    }
    return c;
  };
  for (const hit of input.keyword) entry(hit.memory).keyword = hit;
  for (const hit of input.vector) entry(hit.memory).vector = hit;
  const matched = candidates.size > 0;
  for (const memory of input.pinned) entry(memory);
  if (!matched) for (const memory of input.recent) entry(memory);

  const scored = [...candidates.values()].map((c) => toHit(c, input, matched));
  const pinned = scored.filter((h) => h.memory.pinned).sort(byScore);
  const rest = scored.filter((h) => !h.memory.pinned).sort(byScore);
  return [...pinned, ...rest].slice(0, input.limit);
}

function toHit(c: Candidate, input: FusionInput, matched: boolean): RecallHit {
  const rrf = (c.keyword ? 1 / (RRF_K + c.keyword.rank) : 0) + (c.vector ? 1 / (RRF_K + c.vector.rank) : 0);
  const confidence = effectiveConfidence(c.memory, input.now, input.policy);
  const why: string[] = [];
  if (c.memory.pinned) why.push('pinned');
  if (c.keyword) why.push(`keyword rank ${c.keyword.rank} (ts_rank ${c.keyword.tsRank.toFixed(3)})`);
  if (c.vector) why.push(`vector rank ${c.vector.rank} (cosine ${c.vector.similarity.toFixed(2)})`);
  if (!c.keyword && !c.vector && !c.memory.pinned && !matched) why.push('recent');
  if (confidence < 1) why.push(`confidence ${confidence.toFixed(2)}`);
  return {
    memory: c.memory,
    score: rrf * confidence,
    why: why.join('; '),
    keywordRank: c.keyword?.rank ?? 0,
    vectorRank: c.vector?.rank ?? 0,
  };
}

/**
 * Best score first; ties go to a keyword match (exact words are the stronger evidence), then
 * to the newer memory, then by id so the order never depends on the database's.
 */
function byScore(a: RecallHit, b: RecallHit): number {
  return (
    b.score - a.score ||
    Number(b.keywordRank > 0) - Number(a.keywordRank > 0) ||
    b.memory.createdAt.getTime() - a.memory.createdAt.getTime() ||
    (a.memory.id < b.memory.id ? -1 : a.memory.id > b.memory.id ? 1 : 0)
  );
}
