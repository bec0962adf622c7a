/**
 * Vectors in a plain `float8[]` column, searched by computing every candidate's cosine
 * similarity in SQL (`memory.cosine_similarity`): the fallback where the `vector` extension is
 * missing (Debian 12's PostgreSQL). Exact, like the pgvector path; slower on large projects, as
 * it reads every vector of the project's live memories per recall.
 */
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { PostgresVectorIndex } from './postgres-vector-index.js';
import { VectorSearchKinds } from './vector-index.js';

/** A `VectorIndex` that scans `float8[]` vectors. */
export class ExactScanVectorIndex extends PostgresVectorIndex {
  readonly kind = VectorSearchKinds.exactScan;

  protected vectorValue(vector: readonly number[]): RawBuilder<unknown> {
    // pg sends a JS array as a PostgreSQL array literal.
    return sql`${[...vector]}::float8[]`;
  }

  protected similarity(query: RawBuilder<unknown>): RawBuilder<unknown> {
    return sql`memory.cosine_similarity(v.embedding, ${query})`;
  }
}
