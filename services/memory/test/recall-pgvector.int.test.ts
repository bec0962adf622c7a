/**
 * The pgvector path: PGlite (embedded PostgreSQL) with its `vector` extension, so the
 * migration creates the extension and a `vector` column, and recall searches with `<=>`.
 */
import { sql } from '@maestro/db';
import { migrateMemorySchema } from '../src/store/migrations.js';
import { openVectorIndex } from '../src/store/open-vector-index.js';
import { PgvectorVectorIndex } from '../src/store/pgvector-vector-index.js';
import { PostgresMemoryStore } from '../src/store/postgres-memory-store.js';
import { defineRecallContract } from './recall.contract.js';
import { openBackend, PGLITE_START_TIMEOUT_MS } from './support/memory-harness.js';
import type { Backend } from './support/memory-harness.js';
import { RecordingLogger } from './support/recording-logger.js';
import { defineVectorIndexContract } from './vector-index.contract.js';

let backend: Backend;
// PGlite runs initdb in WebAssembly at start: seconds on an idle machine, a minute on a busy one.
beforeAll(async () => {
  backend = await openBackend('pglite');
}, PGLITE_START_TIMEOUT_MS);
afterAll(async () => {
  await backend?.close();
});

it('created the vector extension and a vector column, and picks the pgvector adapter', async () => {
  const extensions = await sql<{ extname: string }>`SELECT extname FROM pg_extension WHERE extname = 'vector'`.execute(backend.db);
  expect(extensions.rows).toEqual([{ extname: 'vector' }]);
  expect(await openVectorIndex(backend.db)).toBeInstanceOf(PgvectorVectorIndex);
  // Migrating again changes nothing.
  expect(await migrateMemorySchema(backend.db, new RecordingLogger())).toEqual([]);
});

defineVectorIndexContract('pgvector (PGlite)', async () => {
  await sql`TRUNCATE memory.memory_vectors, memory.embedding_spaces, memory.memories CASCADE`.execute(backend.db);
  return { index: new PgvectorVectorIndex(backend.db), store: new PostgresMemoryStore(backend.db), close: async () => undefined };
});

defineRecallContract('pgvector (PGlite)', () => backend);
