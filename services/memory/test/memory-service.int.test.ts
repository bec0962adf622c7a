/**
 * The MemoryService end to end: a gRPC client, the server on port 0, the memory service over a
 * fresh PostgreSQL database (exact-scan path) with the local embedder. What a caller sees: the
 * RPCs, the fields of their answers, and INVALID_ARGUMENT naming the field for bad input.
 */
import { HealthCheckResponse_ServingStatus, HealthClient, MemoryServiceClient } from '@maestro/contracts';
import type { LearnRequest, RecallRequest, RememberRequest, UpdateMemoryRequest } from '@maestro/contracts';
import { createGrpcClient, MaestroError } from '@maestro/runtime';
import type { GrpcClient, GrpcServer } from '@maestro/runtime';
import { createMemoryServer, MEMORY_SERVICE_NAME } from '../src/memory-server.js';
import { MemoryHarness, openBackend } from './support/memory-harness.js';
import type { Backend } from './support/memory-harness.js';
import type { SwitchableEmbedder } from './support/test-embedders.js';

let backend: Backend;
let h: MemoryHarness;
let server: GrpcServer;
let client: GrpcClient<MemoryServiceClient>;

beforeAll(async () => {
  backend = await openBackend('postgres');
  h = await MemoryHarness.create(backend);
  server = createMemoryServer({ address: '127.0.0.1:0', logger: h.logger, memory: h.memory, clock: h.clock });
  const port = await server.start();
  client = createGrpcClient(MemoryServiceClient, `127.0.0.1:${port}`, { deadlineMs: 10_000 });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
  await h?.close();
  await backend?.close();
});

const DAY = 86_400_000;

const remember = (patch: Partial<RememberRequest>) =>
  client.call.remember({ tenant: '', project: 'acme/grpc', kind: 'project', content: 'x', tags: [], scope: '', pinned: false, expiresAt: undefined, ...patch });
const recall = (patch: Partial<RecallRequest>) => client.call.recall({ tenant: '', project: 'acme/grpc', query: 'x', limit: 0, kind: '', scopes: [], ...patch });
const update = (patch: Partial<UpdateMemoryRequest> & { id: string }) => client.call.update({ tenant: '', tags: [], setTags: false, clearExpiry: false, ...patch });
const learn = (patch: Partial<LearnRequest>) =>
  client.call.learn({ tenant: '',
    project: 'acme/grpc',
    content: 'In this repository the tests need TZ=UTC.',
    topic: 'dates.test.ts fails with a timezone offset',
    provenance: {
      taskId: 'task-1',
      subtaskId: 'sub-1',
      commitSha: 'abc123',
      testEvidence: 'npm test: passed',
      failingTests: ['dates.test.ts'],
      failureKind: 'tests_failed',
      fix: 'set TZ=UTC in the test script',
      files: ['package.json'],
      confirmedBy: [],
    },
    confidence: 0,
    author: 'rule',
    tags: [],
    ...patch,
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

async function fieldOf(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await errorOf(promise);
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(err.message.startsWith(`${err.field}: `)).toBe(true);
  return err.field;
}

it('reports SERVING on the standard health service', async () => {
  const health = createGrpcClient(HealthClient, `127.0.0.1:${server.port}`);
  try {
    expect((await health.call.check({ service: MEMORY_SERVICE_NAME })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  } finally {
    health.close();
  }
});

it('remembers, recalls with reasons, lists and forgets', async () => {
  const project = 'acme/roundtrip';
  const pref = await remember({ project, kind: 'preference', content: 'Always use pnpm workspaces.', tags: ['tooling'], scope: 'team:core' });
  expect(pref).toMatchObject({
    project,
    kind: 'preference',
    scope: 'team:core',
    pinned: false,
    status: 'active',
    supersededBy: '',
    confidence: 1,
    topic: '',
    confirmations: 0,
    author: 'person',
    provenance: undefined,
    expiresAt: undefined,
  });
  expect(pref.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(pref.createdAt).toEqual(new Date(h.clock.now()));
  expect(pref.updatedAt).toEqual(pref.createdAt);
  const note = await remember({ project, content: 'Services talk gRPC for questions and NATS for facts.', pinned: true });

  const recalled = await recall({ project, query: 'which package manager workspaces', scopes: ['team:core'] });
  expect(recalled.vectorSearch).toBe('exact-scan');
  expect(recalled.warning).toBe('');
  expect(recalled.memories.map((m) => m.memory!.id)).toEqual([note.id, pref.id]);
  expect(recalled.memories[0]).toMatchObject({ why: 'pinned', score: 0, keywordRank: 0, vectorRank: 0 });
  expect(recalled.memories[1]!.keywordRank).toBe(1);
  expect(recalled.memories[1]!.score).toBeGreaterThan(0);
  expect(recalled.memories[1]!.why).toContain('keyword rank 1');
  // Without the team's scope, the team's preference is not recalled.
  expect((await recall({ project, query: 'which package manager workspaces' })).memories.map((m) => m.memory!.id)).toEqual([note.id]);

  expect((await client.call.list({ tenant: '', project, kind: '', limit: 0, includeInactive: false, scope: '' })).memories.map((m) => m.id)).toEqual([note.id, pref.id]);
  expect((await client.call.list({ tenant: '', project, kind: '', limit: 0, includeInactive: false, scope: 'team:core' })).memories.map((m) => m.id)).toEqual([pref.id]);
  expect(await client.call.forget({ tenant: '', id: pref.id })).toEqual({ forgotten: true });
  expect(await client.call.forget({ tenant: '', id: pref.id })).toEqual({ forgotten: false });
});

it('pins, edits, retires and restores a memory, and sets its expiry', async () => {
  const project = 'acme/update';
  const m = await remember({ project, content: 'Configure the retryPolicy before calling the client.' });
  h.clock.advance(1_000);
  const pinned = await update({ id: m.id, pinned: true });
  expect(pinned).toMatchObject({ id: m.id, pinned: true, content: m.content });
  expect(pinned.updatedAt).toEqual(new Date(h.clock.now()));
  const edited = await update({ id: m.id, content: 'Set the circuitBreaker threshold to five failures.', tags: ['http'], setTags: true });
  expect(edited).toMatchObject({ content: 'Set the circuitBreaker threshold to five failures.', tags: ['http'] });
  const expiresAt = new Date(h.clock.now() + DAY);
  expect((await update({ id: m.id, expiresAt })).expiresAt).toEqual(expiresAt);
  expect((await update({ id: m.id, clearExpiry: true })).expiresAt).toBeUndefined();

  expect((await update({ id: m.id, status: 'retired' })).status).toBe('retired');
  expect((await recall({ project, query: 'circuit breaker' })).memories).toEqual([]);
  expect((await client.call.list({ tenant: '', project, kind: '', limit: 0, includeInactive: true, scope: '' })).memories.map((x) => x.status)).toEqual(['retired']);
  expect((await update({ id: m.id, status: 'active' })).status).toBe('active');
  expect((await recall({ project, query: 'circuit breaker' })).memories.map((x) => x.memory!.id)).toEqual([m.id]);

  const missing = await errorOf(update({ id: '0b8e5c0e-1a8f-4c4b-9d7a-3e2f1c0b9a8d', pinned: true }));
  expect(missing.code).toBe('MEMORY_NOT_FOUND');
});

it('learns a lesson: created with provenance, merged when repeated, superseded when contradicted', async () => {
  const project = 'acme/learn';
  const created = await learn({ project });
  expect(created.outcome).toBe('created');
  expect(created.supersededIds).toEqual([]);
  expect(created.memory).toMatchObject({
    kind: 'reflex',
    author: 'rule',
    confidence: 0.6,
    confirmations: 1,
    topic: 'dates.test.ts fails with a timezone offset',
    provenance: { taskId: 'task-1', commitSha: 'abc123', fix: 'set TZ=UTC in the test script', files: ['package.json'], confirmedBy: [] },
  });
  expect(created.memory!.expiresAt).toEqual(new Date(h.clock.now() + 180 * DAY));

  const merged = await learn({ project, provenance: { ...created.memory!.provenance!, taskId: 'task-2' }, author: 'model:gemini/gemini-2.5-pro' });
  expect(merged).toMatchObject({ outcome: 'merged', memory: { id: created.memory!.id, confirmations: 2, confidence: 0.7, author: 'rule' } });
  expect(merged.memory!.provenance!.confirmedBy).toEqual(['task-2']);

  const superseded = await learn({ project, content: 'In this repository the tests need TZ=Europe/Berlin.', provenance: { ...created.memory!.provenance!, taskId: 'task-3' }, author: 'scripted:reflect-demo' });
  expect(superseded.outcome).toBe('superseded');
  expect(superseded.supersededIds).toEqual([created.memory!.id]);
  const history = await client.call.list({ tenant: '', project, kind: 'reflex', limit: 0, includeInactive: true, scope: '' });
  expect(history.memories.map((m) => [m.id, m.status, m.supersededBy])).toEqual([
    [superseded.memory!.id, 'active', ''],
    [created.memory!.id, 'superseded', superseded.memory!.id],
  ]);
  expect((await recall({ project, query: 'tests TZ' })).memories.map((m) => m.memory!.id)).toEqual([superseded.memory!.id]);
});

describe('bad input: INVALID_ARGUMENT naming the field, nothing stored', () => {
  it.each<[string, Partial<RecallRequest>, string]>([
    ['an empty query', { query: '' }, 'query'],
    ['a blank query', { query: '  \n\t ' }, 'query'],
    ['a query over 2 000 characters', { query: 'q'.repeat(2_001) }, 'query'],
    ['a 1 MB query', { query: 'redis '.repeat(174_763) }, 'query'],
    ['an unknown kind', { kind: 'gossip' }, 'kind'],
    ['an unknown scope', { scopes: ['org:acme'] }, 'scopes[0]'],
    ['a scope without an id', { scopes: ['project', 'user:'] }, 'scopes[1]'],
    ['an empty scope', { scopes: [''] }, 'scopes[0]'],
    ['a negative limit', { limit: -1 }, 'limit'],
    ['a limit over 50', { limit: 51 }, 'limit'],
    ['no project', { project: '' }, 'project'],
  ])('recall with %s', async (_case, patch, field) => {
    expect(await fieldOf(recall(patch))).toBe(field);
  });

  it.each<[string, Partial<RememberRequest>, string]>([
    ['an unknown kind', { kind: 'gossip' }, 'kind'],
    ['empty content', { content: '' }, 'content'],
    ['content over 20 000 characters', { content: 'x'.repeat(20_001) }, 'content'],
    ['1 MB of content', { content: 'x'.repeat(1_048_576) }, 'content'],
    ['an unknown scope', { scope: 'everyone' }, 'scope'],
    ['an expiry in the past', { expiresAt: new Date(Date.parse('2000-01-01T00:00:00Z')) }, 'expires_at'],
    ['21 tags', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
  ])('remember with %s', async (_case, patch, field) => {
    const project = `acme/bad-${field}`;
    expect(await fieldOf(remember({ project, ...patch }))).toBe(field);
    expect((await client.call.list({ tenant: '', project, kind: '', limit: 0, includeInactive: true, scope: '' })).memories).toEqual([]);
  });

  it('names the kind and what is allowed', async () => {
    const err = await errorOf(remember({ kind: 'gossip' }));
    expect(err.message).toBe('kind: must be one of preference, project, reflex, got "gossip"');
    const scope = await errorOf(recall({ scopes: ['org:acme'] }));
    expect(scope.message).toContain('"project", "user:<id>" or "team:<id>"');
  });

  it.each<[string, Partial<UpdateMemoryRequest>, string]>([
    ['a status a person cannot set', { status: 'superseded' }, 'status'],
    ['an expiry and clear_expiry together', { expiresAt: new Date(Date.parse('2031-01-01T00:00:00Z')), clearExpiry: true }, 'expires_at'],
    ['tags without set_tags', { tags: ['a'] }, 'tags'],
    ['blank content', { content: ' ' }, 'content'],
  ])('update with %s', async (_case, patch, field) => {
    const m = await remember({ project: 'acme/bad-update', content: 'unchanged' });
    expect(await fieldOf(update({ id: m.id, ...patch }))).toBe(field);
    expect((await client.call.list({ tenant: '', project: 'acme/bad-update', kind: '', limit: 1, includeInactive: true, scope: '' })).memories[0]).toMatchObject({
      content: 'unchanged',
      status: 'active',
    });
    expect(await fieldOf(update({ id: 'not-a-uuid', pinned: true }))).toBe('id');
  });

  it.each<[string, Partial<LearnRequest>, string]>([
    ['no provenance', { provenance: undefined }, 'provenance'],
    ['no task id', { provenance: { taskId: '', subtaskId: '', commitSha: '', testEvidence: '', failingTests: [], failureKind: '', fix: '', files: [], confirmedBy: [] } }, 'provenance.task_id'],
    ['an unknown author', { author: 'someone' }, 'author'],
    ['a person as author', { author: 'person' }, 'author'],
    ['a confidence over 1', { confidence: 1.5 }, 'confidence'],
    ['no topic', { topic: '  ' }, 'topic'],
    ['empty content', { content: '' }, 'content'],
  ])('learn with %s', async (_case, patch, field) => {
    expect(await fieldOf(learn({ project: 'acme/bad-learn', ...patch }))).toBe(field);
    expect((await client.call.list({ tenant: '', project: 'acme/bad-learn', kind: '', limit: 0, includeInactive: true, scope: '' })).memories).toEqual([]);
  });

  it('list with a limit over 200 or an unknown scope; forget with a bad id', async () => {
    expect(await fieldOf(client.call.list({ tenant: '', project: 'p', kind: '', limit: 201, includeInactive: false, scope: '' }))).toBe('limit');
    expect(await fieldOf(client.call.list({ tenant: '', project: 'p', kind: '', limit: 0, includeInactive: false, scope: 'org:x' }))).toBe('scope');
    expect(await fieldOf(client.call.forget({ tenant: '', id: 'not-a-uuid' }))).toBe('id');
  });

  it('refuses NUL characters, which PostgreSQL refuses, naming the field', async () => {
    const project = 'acme/nul';
    const content = await errorOf(remember({ project, kind: 'reflex', content: 'tests need\u0000Redis' }));
    expect(content.code).toBe('INVALID_ARGUMENT');
    expect(content.field).toBe('content');
    expect(content.message).toBe('content: must not contain NUL (\\u0000) characters');
    expect(await fieldOf(remember({ project, content: 'x', tags: ['ok', 'b\u0000d'] }))).toBe('tags[1]');
    expect(await fieldOf(recall({ project, query: 'redis\u0000' }))).toBe('query');
    expect((await client.call.list({ tenant: '', project, kind: '', limit: 0, includeInactive: true, scope: '' })).memories).toEqual([]);
  });
});

it('recalls by keyword with a warning while the embedder is down, and still remembers', async () => {
  const project = 'acme/outage';
  const embedder = h.embedder as SwitchableEmbedder;
  embedder.down = true;
  try {
    const m = await remember({ project, content: 'Integration tests need Redis running on port 6379.' });
    const result = await recall({ project, query: 'redis tests' });
    expect(result.vectorSearch).toBe('none');
    expect(result.warning).toMatch(/^vector search skipped, keyword search only: embedder local:hash-v1:384 failed/);
    expect(result.memories.map((x) => [x.memory!.id, x.keywordRank, x.vectorRank])).toEqual([[m.id, 1, 0]]);
  } finally {
    embedder.down = false;
  }
});
