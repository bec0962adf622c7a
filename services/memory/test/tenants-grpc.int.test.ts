/**
 * Tenants over the real gRPC MemoryService (PostgreSQL, exact-scan path): a caller sees and acts
 * on its own tenant's memories only (another tenant's memory is answered like an unknown id), an
 * empty tenant (an internal caller) sees every tenant's and creates in `default`, and a tenant
 * that is not a tenant name is INVALID_ARGUMENT naming `tenant`.
 */
import { MemoryServiceClient } from '@maestro/contracts';
import type { LearnRequest, ListMemoriesRequest, RecallRequest, RememberRequest, UpdateMemoryRequest } from '@maestro/contracts';
import { createGrpcClient, MaestroError } from '@maestro/runtime';
import type { GrpcClient, GrpcServer } from '@maestro/runtime';
import { createMemoryServer } from '../src/memory-server.js';
import { MemoryHarness, openBackend } from './support/memory-harness.js';
import type { Backend } from './support/memory-harness.js';

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

const project = 'acme/tenants';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

const remember = (tenant: string, patch: Partial<RememberRequest> = {}) =>
  client.call.remember({ tenant, project, kind: 'project', content: 'Integration tests need Redis on port 6379.', tags: [], scope: '', pinned: false, expiresAt: undefined, ...patch });
const recall = (tenant: string, patch: Partial<RecallRequest> = {}) => client.call.recall({ tenant, project, query: 'redis port', limit: 0, kind: '', scopes: [], ...patch });
const list = (tenant: string, patch: Partial<ListMemoriesRequest> = {}) => client.call.list({ tenant, project, kind: '', limit: 0, includeInactive: false, scope: '', ...patch });
const update = (tenant: string, patch: Partial<UpdateMemoryRequest> & { id: string }) => client.call.update({ tenant, tags: [], setTags: false, clearExpiry: false, ...patch });
const learn = (tenant: string, patch: Partial<LearnRequest> = {}) =>
  client.call.learn({
    tenant,
    project,
    content: 'In this repository the tests need TZ=UTC.',
    topic: 'dates.test.ts fails with a timezone offset',
    provenance: { taskId: 'task-1', subtaskId: 'sub-1', commitSha: 'abc123', testEvidence: 'npm test: passed', failingTests: [], failureKind: '', fix: '', files: [], confirmedBy: [] },
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

const ids = (memories: ReadonlyArray<{ id: string }>) => memories.map((m) => m.id).sort();

it("keeps each tenant to its own memories; another tenant's is answered like an unknown id", async () => {
  const a = await remember('tenant-a');
  const b = await remember('tenant-b', { content: 'Integration tests need Redis on port 6380.' });
  expect([a.tenant, b.tenant]).toEqual(['tenant-a', 'tenant-b']);

  expect((await recall('tenant-a')).memories.map((m) => m.memory!.id)).toEqual([a.id]);
  expect((await recall('tenant-b')).memories.map((m) => m.memory!.id)).toEqual([b.id]);
  expect(ids((await list('tenant-a')).memories)).toEqual([a.id]);
  expect((await list('tenant-c')).memories).toEqual([]);

  const unknown = await errorOf(update('tenant-b', { id: UNKNOWN_ID, pinned: true }));
  const foreign = await errorOf(update('tenant-b', { id: a.id, pinned: true }));
  expect(foreign.code).toBe('MEMORY_NOT_FOUND');
  expect(foreign.code).toBe(unknown.code);
  expect(foreign.message).toBe(unknown.message.replace(UNKNOWN_ID, a.id));
  // Forget answers "nothing forgotten" for an unknown id, and so for another tenant's.
  expect(await client.call.forget({ tenant: 'tenant-b', id: UNKNOWN_ID })).toEqual({ forgotten: false });
  expect(await client.call.forget({ tenant: 'tenant-b', id: a.id })).toEqual({ forgotten: false });
  expect((await list('tenant-a')).memories[0]).toMatchObject({ id: a.id, pinned: false });

  expect(await update('tenant-a', { id: a.id, pinned: true })).toMatchObject({ tenant: 'tenant-a', pinned: true });
  expect(await client.call.forget({ tenant: 'tenant-a', id: a.id })).toEqual({ forgotten: true });
});

it("lets an empty tenant (an internal caller) see every tenant's memories and create in default", async () => {
  const projectAll = 'acme/internal';
  const a = await remember('all-a', { project: projectAll });
  const b = await remember('all-b', { project: projectAll });
  const internal = await remember('', { project: projectAll });
  expect(internal.tenant).toBe('default');
  expect(ids((await list('', { project: projectAll })).memories)).toEqual([a.id, b.id, internal.id].sort());
  expect(ids((await recall('', { project: projectAll })).memories.map((m) => m.memory!))).toEqual([a.id, b.id, internal.id].sort());
  expect(ids((await list('default', { project: projectAll })).memories)).toEqual([internal.id]);
  expect(await update('', { id: a.id, pinned: true })).toMatchObject({ tenant: 'all-a', pinned: true });
  expect(await client.call.forget({ tenant: '', id: b.id })).toEqual({ forgotten: true });
});

it('learns per tenant: one topic in two tenants is two reflexes', async () => {
  const a = await learn('learn-a');
  const b = await learn('learn-b');
  expect([a.outcome, b.outcome]).toEqual(['created', 'created']);
  expect([a.memory!.tenant, b.memory!.tenant]).toEqual(['learn-a', 'learn-b']);
  const again = await learn('learn-a', { provenance: { taskId: 'task-2', subtaskId: 'sub-1', commitSha: 'def456', testEvidence: 'npm test: passed', failingTests: [], failureKind: '', fix: '', files: [], confirmedBy: [] } });
  expect(again).toMatchObject({ outcome: 'merged', memory: { id: a.memory!.id } });
});

it('refuses a tenant that is not a tenant name with INVALID_ARGUMENT naming tenant', async () => {
  for (const tenant of ['Upper', '_leading', 'has space', 'x'.repeat(64)]) {
    const calls: Array<Promise<unknown>> = [
      remember(tenant),
      recall(tenant),
      list(tenant),
      update(tenant, { id: UNKNOWN_ID, pinned: true }),
      client.call.forget({ tenant, id: UNKNOWN_ID }),
      learn(tenant),
    ];
    for (const call of calls) {
      const err = await errorOf(call);
      expect({ code: err.code, field: err.field }).toEqual({ code: 'INVALID_ARGUMENT', field: 'tenant' });
      expect(err.message.startsWith('tenant: ')).toBe(true);
    }
  }
});
