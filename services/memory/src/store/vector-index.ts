/**
 * The port for memories' vectors: one embedding space per embedder id (a re-embed fills a new
 * space while the old one keeps serving), and cosine search within a space. Two adapters:
 * pgvector where the `vector` extension exists, an exact scan over `float8[]` otherwise; both
 * search exactly (no approximate index), so they return the same hits in the same order.
 */
import type { Memory } from '../domain/memory.js';
import type { VectorHit } from '../domain/rank-fusion.js';
import type { RecallFilter } from './memory-store.js';

/** How vectors are searched (RecallResponse.vector_search), `none` when recall was keyword only. */
export const VectorSearchKinds = {
  pgvector: 'pgvector',
  exactScan: 'exact-scan',
  none: 'none',
} as const;
/** One of {@link VectorSearchKinds}. */
export type VectorSearchKind = (typeof VectorSearchKinds)[keyof typeof VectorSearchKinds];

/** One embedder's vector space. */
export interface EmbeddingSpace {
  readonly embedderId: string;
  /** The embedder spec that made it (`local`, `openai:text-embedding-3-small`). */
  readonly spec: string;
  readonly dimensions: number;
  readonly createdAt: Date;
  /** When every active memory first had a vector here; undefined while it fills. */
  readonly readyAt: Date | undefined;
}

/** One vector to store. */
export interface VectorEntry {
  readonly memoryId: string;
  readonly vector: readonly number[];
}

/** A memory the embedder of a space refuses to embed, and why. */
export interface SkippedEntry {
  readonly memoryId: string;
  /** The embedder's error, as `CODE: message`. */
  readonly reason: string;
}

/** What a vector search looks for. */
export interface VectorQuery {
  readonly embedderId: string;
  readonly vector: readonly number[];
  readonly filter: RecallFilter;
  /** Web-search exclusions (`-redis`) that hits must not contain; empty for none. */
  readonly exclusions: string;
  /** Hits below this cosine similarity are left out. */
  readonly minSimilarity: number;
  readonly limit: number;
}

/** Where memories' vectors live and how they are searched. */
export interface VectorIndex {
  /** `pgvector` or `exact-scan`. */
  readonly kind: Exclude<VectorSearchKind, 'none'>;
  /** Records a space (idempotent: an existing one is returned as it is). */
  registerSpace(space: { embedderId: string; spec: string; dimensions: number }, now: Date): Promise<EmbeddingSpace>;
  /** Every space, newest first. */
  spaces(): Promise<EmbeddingSpace[]>;
  /** Marks a space as covering every active memory (once; later calls keep the first time). */
  markReady(embedderId: string, now: Date): Promise<void>;
  /**
   * Stores (or replaces) vectors in a registered space. A vector of another dimension than the
   * space's is INVALID_ARGUMENT naming `embedding`.
   */
  put(embedderId: string, entries: readonly VectorEntry[], now: Date): Promise<void>;
  /**
   * Records memories the space's embedder refuses for good, so {@link missing} no longer
   * returns them (a memory forgotten meanwhile is ignored; recording again replaces the reason).
   */
  skip(embedderId: string, entries: readonly SkippedEntry[], now: Date): Promise<void>;
  /** Drops a memory's vectors and skip records in every space (its content changed). */
  removeAll(memoryId: string): Promise<void>;
  /** Active memories with neither a vector nor a skip record in the space, oldest first, at most `limit`. */
  missing(embedderId: string, limit: number): Promise<Memory[]>;
  /**
   * The live memories most similar to `query.vector` in its space, best first, ranked 1..n on
   * the similarity rounded to `SIMILARITY_DECIMALS` (ties to the newer memory). A vector of the
   * wrong dimension is INVALID_ARGUMENT naming `embedding`.
   */
  search(query: VectorQuery): Promise<VectorHit[]>;
}
