import { createDb, sql } from '@maestro/db';
import type { Kysely } from '@maestro/db';
import { createSilentLogger, OperationalError } from '@maestro/runtime';
import { createTestDatabase } from '@maestro/testing';
import type { TestDatabase } from '@maestro/testing';
import { validateList, validateRecall, validateRemember } from '../src/domain/memory.js';
import type { MemoryKind } from '../src/domain/memory.js';
import { migrateMemorySchema } from '../src/store/migrations.js';
import { PostgresMemoryStore } from '../src/store/postgres-memory-store.js';
import type { MemoryDatabase } from '../src/store/postgres-memory-store.js';

let database: TestDatabase;
let db: Kysely<MemoryDatabase>;
let store: PostgresMemoryStore;

beforeAll(async () => {
  database = await createTestDatabase('memory_store_test');
  db = createDb<MemoryDatabase>({ url: database.url, maxConnections: 4 });
  await migrateMemorySchema(db, createSilentLogger());
  store = new PostgresMemoryStore(db);
});

afterAll(async () => {
  await db.destroy();
  await database.drop();
});

beforeEach(async () => {
  await sql`TRUNCATE memory.memories`.execute(db);
});

const remember = (project: string, kind: MemoryKind, content: string, tags: string[] = []) =>
  store.remember(validateRemember({ project, kind, content, tags }));
const recall = (project: string, query: string, options: { limit?: number; kind?: MemoryKind } = {}) =>
  store.recall(validateRecall({ project, query, limit: options.limit ?? 0, kind: options.kind ?? '' }));

it('remembers a memory with an id, its tags and a creation time', async () => {
  const memory = await remember('acme/web', 'preference', 'Use pnpm, never npm.', ['tooling']);
  expect(memory.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(memory).toMatchObject({ project: 'acme/web', kind: 'preference', content: 'Use pnpm, never npm.', tags: ['tooling'] });
  expect(memory.createdAt).toBeInstanceOf(Date);
  expect(Math.abs(memory.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
});

it('recalls the best match first by full text, with stemming, within the project only', async () => {
  await remember('acme/web', 'project', 'The web app is built with Vite and served by fastify.');
  const tests = await remember('acme/web', 'reflex', 'Integration tests need Redis running on port 6379 before jest starts.', ['testing']);
  await remember('acme/web', 'reflex', 'Run the tests with pnpm exec jest; tests live beside the code.', ['testing']);
  await remember('other/repo', 'reflex', 'Integration tests need Redis running.');

  const results = await recall('acme/web', 'running integration test redis');
  expect(results[0]!.memory.id).toBe(tests.id);
  expect(results[0]!.score).toBeGreaterThan(0);
  expect(results.every((r) => r.memory.project === 'acme/web')).toBe(true);
  // Scores never increase down the list.
  for (let i = 1; i < results.length; i++) expect(results[i]!.score).toBeLessThanOrEqual(results[i - 1]!.score);
});

it('matches tags as well as content', async () => {
  const tagged = await remember('acme/web', 'preference', 'Prefer named exports everywhere.', ['typescript', 'style']);
  await remember('acme/web', 'preference', 'Commit messages in the imperative mood.');
  const results = await recall('acme/web', 'typescript');
  expect(results.map((r) => r.memory.id)).toEqual([tagged.id]);
});

it('understands web-search syntax: quoted phrases and exclusions', async () => {
  const phrase = await remember('p', 'project', 'The lock manager keeps leases in Redis.');
  await remember('p', 'project', 'Redis keeps the manager of the lock.');
  expect((await recall('p', '"lock manager"')).map((r) => r.memory.id)).toEqual([phrase.id]);
  const excluded = await recall('p', 'redis -leases');
  expect(excluded.map((r) => r.memory.id)).not.toContain(phrase.id);
});

it('finds notes that share only some of the words when none has them all', async () => {
  const pnpm = await remember('p', 'preference', 'Always use pnpm workspaces.', ['tooling']);
  await remember('p', 'project', 'Services talk gRPC for questions and NATS for facts.');
  const results = await recall('p', 'which package manager and workspaces does this repo use?');
  expect(results[0]!.memory.id).toBe(pnpm.id);
  expect(results[0]!.score).toBeGreaterThan(0);
});

it('never turns an excluded word into a match', async () => {
  const leases = await remember('p', 'project', 'Leases expire unless extended.');
  const results = await recall('p', 'kubernetes -leases');
  // Nothing matches "kubernetes": the fallback lists the note, with score 0, not as a hit.
  expect(results).toEqual([{ memory: leases, score: 0 }]);
});

it('filters by kind when asked', async () => {
  await remember('p', 'preference', 'Deploy with helm.');
  const reflex = await remember('p', 'reflex', 'Deploy failed last time: run migrations first.');
  const results = await recall('p', 'deploy', { kind: 'reflex' });
  expect(results.map((r) => r.memory.id)).toEqual([reflex.id]);
});

it('falls back to the newest memories of the kind, with score 0, when nothing matches', async () => {
  const older = await remember('p', 'project', 'The API lives in services/gateway.');
  const newer = await remember('p', 'project', 'Workflows are JSON definitions.');
  await remember('p', 'preference', 'Tabs are forbidden.');
  await remember('elsewhere', 'project', 'Not this project.');
  const results = await recall('p', 'kubernetes helm chart', { kind: 'project' });
  expect(results.map((r) => r.memory.id)).toEqual([newer.id, older.id]);
  expect(results.every((r) => r.score === 0)).toBe(true);
});

it('falls back for an empty query and a stop-word-only query too', async () => {
  const note = await remember('p', 'project', 'Orion plans with the strategic model.');
  expect((await recall('p', '')).map((r) => r.memory.id)).toEqual([note.id]);
  expect((await recall('p', 'the and of')).map((r) => ({ id: r.memory.id, score: r.score }))).toEqual([{ id: note.id, score: 0 }]);
});

it('honours the limit (default 5)', async () => {
  for (let i = 0; i < 8; i++) await remember('p', 'reflex', `Lesson ${i}: always run the linter before commit.`);
  expect(await recall('p', 'linter')).toHaveLength(5);
  expect(await recall('p', 'linter', { limit: 2 })).toHaveLength(2);
  expect(await recall('p', 'nothing-matches-this', { limit: 3 })).toHaveLength(3);
});

it('returns nothing for a project without memories', async () => {
  expect(await recall('empty/project', 'anything')).toEqual([]);
});

it('lists newest first, by kind, and forgets by id', async () => {
  const a = await remember('p', 'preference', 'first');
  const b = await remember('p', 'reflex', 'second');
  const c = await remember('p', 'preference', 'third');
  expect((await store.list(validateList({ project: 'p', kind: '', limit: 0 }))).map((m) => m.id)).toEqual([c.id, b.id, a.id]);
  expect((await store.list(validateList({ project: 'p', kind: 'preference', limit: 1 }))).map((m) => m.id)).toEqual([c.id]);

  expect(await store.forget(b.id)).toBe(true);
  expect(await store.forget(b.id)).toBe(false);
  expect((await store.list(validateList({ project: 'p', kind: '', limit: 0 }))).map((m) => m.id)).toEqual([c.id, a.id]);
});

it('keeps unicode content and tags intact', async () => {
  const memory = await remember('p', 'preference', 'Écrire les messages en français — merci ✓', ['langue', 'ü']);
  const [listed] = await store.list(validateList({ project: 'p', kind: '', limit: 1 }));
  expect(listed).toEqual(memory);
});

it('reports a PostgreSQL it cannot reach as a transient (operational) error', async () => {
  const unreachable = createDb<MemoryDatabase>({ url: 'postgres://postgres@127.0.0.1:1/nowhere' });
  try {
    const err: unknown = await new PostgresMemoryStore(unreachable)
      .list(validateList({ project: 'p', kind: '', limit: 0 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect((err as OperationalError).code).toBe('MEMORY_STORE_UNAVAILABLE');
  } finally {
    await unreachable.destroy();
  }
});
