/**
 * Vectors in pgvector's `vector` column, searched with its cosine distance operator (`<=>`).
 * Exact: there is no ANN index (HNSW/IVFFlat are approximate and need one fixed dimension per
 * column), so results match the exact scan's; see the README for when to add one.
 */
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { toVectorLiteral } from '../domain/vector.js';
import { PostgresVectorIndex } from './postgres-vector-index.js';
import { VectorSearchKinds } from './vector-index.js';

/** A `VectorIndex` over pgvector. */
export class PgvectorVectorIndex extends PostgresVectorIndex {
  readonly kind = VectorSearchKinds.pgvector;

  protected vectorValue(vector: readonly number[]): RawBuilder<unknown> {
    return sql`${toVectorLiteral(vector)}::vector`;
  }

  protected similarity(query: RawBuilder<unknown>): RawBuilder<unknown> {
    // `<=>` is cosine distance (1 − similarity); NaN for a zero vector, filtered out by the caller.
    return sql`1 - (v.embedding <=> ${query})`;
  }
}
