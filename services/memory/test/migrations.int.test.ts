/**
 * The `memory` schema's upgrade path: a database holding memories written before issue 8
 * (migration 0001 only) migrates to the latest schema with its memories intact (active,
 * project scope, confidence 1, by a person), and the re-embedder gives them vectors, after
 * which vector recall finds them. Also: an unreachable PostgreSQL is a transient error.
 */
import { createDb, migrateToLatest, sql } from '@maestro/db';
import type { Kysely } from '@maestro/db';
import { OperationalError } from '@maestro/runtime';
import { createTestDatabase } from '@maestro/testing';
import type { TestDatabase } from '@maestro/testing';
import { validateList } from '../src/domain/memory-requests.js';
import type { MemoryDatabase } from '../src/store/memory-rows.js';
import { MEMORY_SCHEMA, memoryMigrations, migrateMemorySchema } from '../src/store/migrations.js';
import { PostgresMemoryStore } from '../src/store/postgres-memory-store.js';
import { MemoryHarness } from './support/memory-harness.js';
import { RecordingLogger } from './support/recording-logger.js';

let database: TestDatabase;
let db: Kysely<MemoryDatabase>;

beforeAll(async () => {
  database = await createTestDatabase('memory_migrations_test');
  db = createDb<MemoryDatabase>({ url: database.url, maxConnections: 2 });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

it('upgrades memories written before recall was hybrid, and re-embeds them', async () => {
  const logger = new RecordingLogger();
  await migrateToLatest(db, { schema: MEMORY_SCHEMA, migrations: { '0001_init': memoryMigrations['0001_init']! }, logger });
  await sql`
    INSERT INTO memory.memories (project, kind, content, tags, created_at) VALUES
      ('acme/web', 'reflex', 'Configure the retryPolicy before calling the payments client.', '{http}', '2029-06-01T00:00:00Z'),
      ('acme/web', 'preference', 'Use pnpm, never npm.', '{}', '2029-06-02T00:00:00Z')
  `.execute(db);

  expect(await migrateMemorySchema(db, logger)).toEqual(['0002_recall_and_lessons', '0003_embedding_skips', '0004_tenants']);
  const [pref, reflex] = await new PostgresMemoryStore(db).list(validateList({ project: 'acme/web', kind: '', limit: 0 }), new Date('2030-01-01T00:00:00Z'));
  expect(reflex).toMatchObject({
    tenant: 'default',
    kind: 'reflex',
    scope: 'project',
    pinned: false,
    status: 'active',
    confidence: 1,
    confirmations: 0,
    author: 'person',
    topic: '',
    provenance: undefined,
    expiresAt: undefined,
    confirmedAt: undefined,
    tags: ['http'],
  });
  expect(reflex!.updatedAt).toEqual(new Date('2029-06-01T00:00:00Z'));
  expect(pref!.content).toBe('Use pnpm, never npm.');

  const h = await MemoryHarness.create({ kind: 'postgres', db, close: async () => undefined }, { keepData: true });
  // No vectors yet: found by neither list, the old notes only stand in as recent ones.
  expect((await h.recall('retry policy')).hits.map((x) => [x.memory.id, x.why])).toEqual([
    [pref!.id, 'recent'],
    [reflex!.id, 'recent'],
  ]);
  expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 2, skipped: 0, ready: false });
  expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 0, skipped: 0, ready: true });
  expect((await h.recall('retry policy')).hits[0]).toMatchObject({ memory: { id: reflex!.id }, keywordRank: 0, vectorRank: 1 });
  await h.close();
});

it('reports a PostgreSQL it cannot reach as a transient (operational) error', async () => {
  const unreachable = createDb<MemoryDatabase>({ url: 'postgres://postgres@127.0.0.1:1/nowhere' });
  try {
    const err: unknown = await new PostgresMemoryStore(unreachable)
      .list(validateList({ project: 'p', kind: '', limit: 0 }), new Date())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect((err as OperationalError).code).toBe('MEMORY_STORE_UNAVAILABLE');
  } finally {
    await unreachable.destroy();
  }
});
