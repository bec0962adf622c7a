/**
 * Picks the vector adapter this database was migrated for, by reading the type of
 * `memory.memory_vectors.embedding`: `vector` (pgvector) or `double precision[]` (exact scan).
 * The migration decided once, by whether `CREATE EXTENSION vector` worked.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { UnexpectedError } from '@maestro/runtime';
import { MemoryErrorCodes } from '../domain/memory-error-codes.js';
import { ExactScanVectorIndex } from './exact-scan-vector-index.js';
import type { MemoryDatabase } from './memory-rows.js';
import { PgvectorVectorIndex } from './pgvector-vector-index.js';
import { guardStore } from './store-errors.js';
import type { VectorIndex } from './vector-index.js';

/** The vector index for `db` (migrated to 0002 or later). */
export function openVectorIndex(db: Kysely<MemoryDatabase>): Promise<VectorIndex> {
  return guardStore('open vector index', async () => {
    const result = await sql<{ type: string }>`
      SELECT format_type(a.atttypid, a.atttypmod) AS type
      FROM pg_attribute a
      WHERE a.attrelid = 'memory.memory_vectors'::regclass AND a.attname = 'embedding' AND NOT a.attisdropped
    `.execute(db);
    const type = result.rows[0]?.type;
    if (type === 'vector') return new PgvectorVectorIndex(db);
    if (type === 'double precision[]') return new ExactScanVectorIndex(db);
    throw new UnexpectedError(MemoryErrorCodes.schemaOutdated, `memory.memory_vectors.embedding has type ${type ?? '(missing)'}; run the memory migrations`);
  });
}
