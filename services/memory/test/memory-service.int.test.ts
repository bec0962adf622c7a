/**
 * The MemoryService end to end: a gRPC client, the server on port 0, and a fresh PostgreSQL
 * database migrated with the service's own migrations.
 */
import { HealthCheckResponse_ServingStatus, HealthClient, MemoryServiceClient } from '@maestro/contracts';
import { createDb } from '@maestro/db';
import type { Kysely } from '@maestro/db';
import { createGrpcClient, createSilentLogger, MaestroError } from '@maestro/runtime';
import type { GrpcClient, GrpcServer } from '@maestro/runtime';
import { createTestDatabase } from '@maestro/testing';
import type { TestDatabase } from '@maestro/testing';
import { createMemoryServer, MEMORY_SERVICE_NAME } from '../src/memory-server.js';
import { migrateMemorySchema } from '../src/store/migrations.js';
import { PostgresMemoryStore } from '../src/store/postgres-memory-store.js';
import type { MemoryDatabase } from '../src/store/postgres-memory-store.js';

let database: TestDatabase;
let db: Kysely<MemoryDatabase>;
let server: GrpcServer;
let client: GrpcClient<MemoryServiceClient>;

beforeAll(async () => {
  database = await createTestDatabase('memory_grpc_test');
  db = createDb<MemoryDatabase>({ url: database.url, maxConnections: 4 });
  await migrateMemorySchema(db, createSilentLogger());
  server = createMemoryServer({ address: '127.0.0.1:0', logger: createSilentLogger(), store: new PostgresMemoryStore(db) });
  const port = await server.start();
  client = createGrpcClient(MemoryServiceClient, `127.0.0.1:${port}`, { deadlineMs: 5_000 });
});

afterAll(async () => {
  client.close();
  await server.shutdown();
  await db.destroy();
  await database.drop();
});

async function errorOf(promise: Promise<unknown>): Promise<MaestroError> {
  const err: unknown = await promise.then(
    (value) => {
      throw new Error(`expected the call to fail, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MaestroError);
  return err as MaestroError;
}

it('reports SERVING on the standard health service', async () => {
  const health = createGrpcClient(HealthClient, `127.0.0.1:${server.port}`);
  try {
    expect((await health.call.check({ service: MEMORY_SERVICE_NAME })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  } finally {
    health.close();
  }
});

it('remembers, recalls, lists and forgets over gRPC', async () => {
  const project = 'acme/grpc';
  const pref = await client.call.remember({ project, kind: 'preference', content: 'Always use pnpm workspaces.', tags: ['tooling'] });
  expect(pref.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(pref.createdAt).toBeInstanceOf(Date);
  const note = await client.call.remember({ project, kind: 'project', content: 'Services talk gRPC for questions and NATS for facts.', tags: [] });

  const recalled = await client.call.recall({ project, query: 'which package manager workspaces', limit: 0, kind: '' });
  expect(recalled.memories[0]!.memory!.id).toBe(pref.id);
  expect(recalled.memories[0]!.score).toBeGreaterThan(0);
  expect(recalled.memories[0]!.memory).toMatchObject({ project, kind: 'preference', tags: ['tooling'] });

  // Orion always gets its project notes, even when its words miss.
  const fallback = await client.call.recall({ project, query: 'kubernetes', limit: 0, kind: 'project' });
  expect(fallback.memories.map((m) => [m.memory!.id, m.score])).toEqual([[note.id, 0]]);

  const listed = await client.call.list({ project, kind: '', limit: 0 });
  expect(listed.memories.map((m) => m.id)).toEqual([note.id, pref.id]);

  expect(await client.call.forget({ id: pref.id })).toEqual({ forgotten: true });
  expect(await client.call.forget({ id: pref.id })).toEqual({ forgotten: false });
  expect((await client.call.list({ project, kind: '', limit: 0 })).memories.map((m) => m.id)).toEqual([note.id]);
});

it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
  const badKind = await errorOf(client.call.remember({ project: 'p', kind: 'gossip', content: 'x', tags: [] }));
  expect(badKind.code).toBe('INVALID_ARGUMENT');
  expect(badKind.field).toBe('kind');
  expect(badKind.message).toContain('preference, project, reflex');
  expect((await errorOf(client.call.remember({ project: 'p', kind: 'reflex', content: '', tags: [] }))).field).toBe('content');
  expect((await errorOf(client.call.recall({ project: '', query: 'x', limit: 0, kind: '' }))).field).toBe('project');
  expect((await errorOf(client.call.recall({ project: 'p', query: 'x', limit: 51, kind: '' }))).field).toBe('limit');
  expect((await errorOf(client.call.forget({ id: 'not-a-uuid' }))).field).toBe('id');
});

it('rejects NUL characters, which PostgreSQL refuses, with INVALID_ARGUMENT naming the field, storing nothing', async () => {
  const project = 'acme/nul';
  const content = await errorOf(client.call.remember({ project, kind: 'reflex', content: 'tests need\u0000Redis', tags: [] }));
  expect(content.code).toBe('INVALID_ARGUMENT');
  expect(content.field).toBe('content');
  expect(content.message).toBe('content: must not contain NUL (\\u0000) characters');
  expect((await errorOf(client.call.remember({ project, kind: 'reflex', content: 'x', tags: ['ok', 'b\u0000d'] }))).field).toBe('tags[1]');
  expect((await errorOf(client.call.recall({ project, query: 'redis\u0000', limit: 0, kind: '' }))).field).toBe('query');
  expect((await errorOf(client.call.list({ project: 'acme\u0000', kind: '', limit: 0 }))).field).toBe('project');
  expect((await client.call.list({ project, kind: '', limit: 0 })).memories).toEqual([]);
});
