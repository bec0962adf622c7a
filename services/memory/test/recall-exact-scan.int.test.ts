/**
 * The exact-scan path: the real PostgreSQL here has no pgvector, so the migration keeps
 * vectors in `float8[]` and recall computes cosine similarity in SQL. A fresh database per file.
 */
import { sql } from '@maestro/db';
import { ExactScanVectorIndex } from '../src/store/exact-scan-vector-index.js';
import { openVectorIndex } from '../src/store/open-vector-index.js';
import { PostgresMemoryStore } from '../src/store/postgres-memory-store.js';
import { defineRecallContract } from './recall.contract.js';
import { openBackend } from './support/memory-harness.js';
import type { Backend } from './support/memory-harness.js';
import { defineVectorIndexContract } from './vector-index.contract.js';

let backend: Backend;
beforeAll(async () => {
  backend = await openBackend('postgres');
});
afterAll(async () => {
  await backend?.close();
});

it('has no vector extension here, keeps float8[] vectors and picks the exact-scan adapter', async () => {
  const extensions = await sql<{ extname: string }>`SELECT extname FROM pg_extension WHERE extname = 'vector'`.execute(backend.db);
  expect(extensions.rows).toEqual([]);
  expect(await openVectorIndex(backend.db)).toBeInstanceOf(ExactScanVectorIndex);
});

defineVectorIndexContract('exact scan (PostgreSQL)', async () => {
  await sql`TRUNCATE memory.memory_vectors, memory.embedding_spaces, memory.memories CASCADE`.execute(backend.db);
  return { index: new ExactScanVectorIndex(backend.db), store: new PostgresMemoryStore(backend.db), close: async () => undefined };
});

defineRecallContract('exact scan (PostgreSQL)', () => backend);
