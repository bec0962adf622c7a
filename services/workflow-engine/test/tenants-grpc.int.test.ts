/**
 * Tenants over real gRPC, with the engine on the real PostgreSQL and NATS: a tenant sees and
 * acts on its own runs only (another tenant's run is NOT_FOUND like an unknown id), reads and
 * runs the shared definitions unless its own of the same name shadows them, and an empty tenant
 * (an internal caller) sees every tenant's runs.
 */
import type { ServiceError } from '@grpc/grpc-js';
import { WorkflowServiceClient, WorkflowServiceService, type ListRunsRequest, type StartRunRequest } from '@maestro/contracts';
import { createGrpcClient, createGrpcServer, createSilentLogger, UserError, type GrpcClient, type GrpcServer } from '@maestro/runtime';
import { createWorkflowHandlers } from '../src/transport/grpc/workflow.handler.js';
import { createEnvironment, startEngine, type EngineInstance, type Environment } from './harness.js';

let env: Environment;
let instance: EngineInstance;
let server: GrpcServer;
let client: GrpcClient<WorkflowServiceClient>;

beforeAll(async () => {
  env = await createEnvironment();
  instance = await startEngine(env);
  server = createGrpcServer({ address: '127.0.0.1:0', logger: createSilentLogger(), serviceNames: ['maestro.v1.WorkflowService'] });
  server.add(WorkflowServiceService, createWorkflowHandlers(instance.engine));
  const port = await server.start();
  client = createGrpcClient(WorkflowServiceClient, `127.0.0.1:${port}`, { deadlineMs: 10_000 });
});

afterAll(async () => {
  client?.close();
  instance?.engine.endWatches();
  await server?.shutdown();
  await instance?.stop();
  await env?.close();
});

const UNKNOWN_RUN = '00000000-0000-4000-8000-000000000000';

/** A one-state flow that waits for CANCEL: its runs start in `wait`, unlike the shared `coding` (`intake`). */
const ownFlow = { id: 'own', initial: 'wait', states: { wait: { on: { CANCEL: 'cancelled' } }, cancelled: { type: 'final' } } };

function startRequest(tenant: string, fields: Partial<StartRunRequest> = {}): StartRunRequest {
  return { tenant, definitionName: 'coding', definitionVersion: 0, input: {}, idempotencyKey: '', ...fields };
}

function listRunsRequest(tenant: string): ListRunsRequest {
  return { tenant, limit: 500, status: '', definitionName: '', definitionVersion: 0, pageToken: '' };
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (err) {
    return err as UserError;
  }
  throw new Error('expected the call to fail');
}

/** What WatchRun answers for `runId` as `tenant`: its first error (the stream must fail). */
function watchError(tenant: string, runId: string): Promise<ServiceError> {
  const stream = client.raw.watchRun({ tenant, runId }, client.metadata());
  stream.on('data', () => undefined);
  return new Promise<ServiceError>((resolve) => stream.on('error', resolve));
}

describe('WorkflowService tenants', () => {
  it("answers another tenant's run exactly like an unknown id, for every run RPC", async () => {
    const run = await client.call.startRun(startRequest('tenant-a'));
    expect(run).toMatchObject({ tenant: 'tenant-a', state: 'intake' });
    expect(await client.call.getRun({ tenant: 'tenant-a', runId: run.id })).toMatchObject({ id: run.id, tenant: 'tenant-a' });

    const unknown = await rejection(client.call.getRun({ tenant: 'tenant-b', runId: UNKNOWN_RUN }));
    const foreign = await rejection(client.call.getRun({ tenant: 'tenant-b', runId: run.id }));
    expect(foreign).toMatchObject({ reason: 'not_found', code: unknown.code });
    expect(foreign.message).toBe(unknown.message.replace(UNKNOWN_RUN, run.id));

    const calls: Array<Promise<unknown>> = [
      client.call.getRunHistory({ tenant: 'tenant-b', runId: run.id, afterSeq: 0, limit: 0 }),
      client.call.sendEvent({ tenant: 'tenant-b', runId: run.id, type: 'CANCEL', payload: {} }),
      client.call.cancelRun({ tenant: 'tenant-b', runId: run.id, reason: 'not yours' }),
    ];
    for (const call of calls) expect(await rejection(call)).toMatchObject({ reason: 'not_found', code: unknown.code });
    expect((await watchError('tenant-b', run.id)).details).toBe((await watchError('tenant-b', UNKNOWN_RUN)).details.replace(UNKNOWN_RUN, run.id));

    // Nothing the other tenant tried reached the run.
    expect(await client.call.getRun({ tenant: 'tenant-a', runId: run.id })).toMatchObject({ status: 'running', state: 'intake', history: [] });
    expect(await client.call.cancelRun({ tenant: 'tenant-a', runId: run.id, reason: 'mine' })).toMatchObject({ status: 'cancelled' });
  });

  it("lists a tenant's own runs only; an empty tenant (internal caller) sees and acts on every tenant's", async () => {
    const a = await client.call.startRun(startRequest('list-a'));
    const b = await client.call.startRun(startRequest('list-b'));
    const internal = await client.call.startRun(startRequest(''));
    expect(internal.tenant).toBe('default');

    const ids = async (tenant: string) => (await client.call.listRuns(listRunsRequest(tenant))).runs.map((r) => r.id);
    expect(await ids('list-a')).toEqual([a.id]);
    expect(await ids('list-b')).toEqual([b.id]);
    expect(await ids('default')).toContain(internal.id);
    expect(await ids('default')).not.toContain(a.id);
    expect(await ids('')).toEqual(expect.arrayContaining([a.id, b.id, internal.id]));

    expect(await client.call.getRun({ tenant: '', runId: a.id })).toMatchObject({ tenant: 'list-a' });
    expect(await client.call.sendEvent({ tenant: '', runId: b.id, type: 'CANCEL', payload: {} })).toMatchObject({ tenant: 'list-b', status: 'cancelled' });
  });

  it('keeps idempotency keys per tenant', async () => {
    const a = await client.call.startRun(startRequest('idem-a', { idempotencyKey: 'task-42' }));
    const b = await client.call.startRun(startRequest('idem-b', { idempotencyKey: 'task-42' }));
    expect(b.id).not.toBe(a.id);
    expect(b.tenant).toBe('idem-b');
    expect((await client.call.startRun(startRequest('idem-a', { idempotencyKey: 'task-42' }))).id).toBe(a.id);
    expect((await client.call.startRun(startRequest('idem-b', { idempotencyKey: 'task-42' }))).id).toBe(b.id);
  });

  it("shares the built-in definitions with every tenant, and a tenant's own definition of the same name shadows them for that tenant only", async () => {
    const shared = await client.call.getDefinition({ tenant: '', name: 'coding', version: 0 });
    expect(shared.tenant).toBe('');
    for (const tenant of ['shadow-a', 'shadow-b']) {
      expect(await client.call.getDefinition({ tenant, name: 'coding', version: 0 })).toMatchObject({ tenant: '', version: shared.version });
      expect((await client.call.listDefinitions({ tenant, name: '' })).definitions.map((d) => [d.name, d.tenant])).toContainEqual(['coding', '']);
    }

    const own = await client.call.putDefinition({ tenant: 'shadow-a', name: 'coding', definition: ownFlow });
    expect(own).toMatchObject({ tenant: 'shadow-a', name: 'coding', version: 1, created: true });

    // Tenant a now gets, lists and runs its own; b and internal callers still the shared one.
    expect(await client.call.getDefinition({ tenant: 'shadow-a', name: 'coding', version: 0 })).toMatchObject({ tenant: 'shadow-a', version: 1, definition: ownFlow });
    expect((await client.call.listDefinitions({ tenant: 'shadow-a', name: '' })).definitions.filter((d) => d.name === 'coding').map((d) => d.tenant)).toEqual(['shadow-a']);
    expect((await client.call.listDefinitions({ tenant: 'shadow-a', name: 'coding' })).definitions.map((d) => [d.tenant, d.version])).toEqual([['shadow-a', 1]]);
    expect(await client.call.startRun(startRequest('shadow-a'))).toMatchObject({ tenant: 'shadow-a', definitionVersion: 1, state: 'wait' });
    expect(await client.call.getDefinition({ tenant: 'shadow-b', name: 'coding', version: 0 })).toMatchObject({ tenant: '', version: shared.version });
    expect((await client.call.listDefinitions({ tenant: 'shadow-b', name: '' })).definitions.filter((d) => d.name === 'coding').map((d) => d.tenant)).toEqual(['']);
    expect(await client.call.startRun(startRequest('shadow-b'))).toMatchObject({ tenant: 'shadow-b', definitionVersion: shared.version, state: 'intake' });

    // The tenant's put made a version of its own: the shared definition is as it was.
    expect(await client.call.getDefinition({ tenant: '', name: 'coding', version: 0 })).toMatchObject({ tenant: '', version: shared.version, definition: shared.definition });
    // An internal caller's list holds both.
    expect((await client.call.listDefinitions({ tenant: '', name: '' })).definitions.filter((d) => d.name === 'coding').map((d) => d.tenant)).toEqual(['', 'shadow-a']);
  });

  it("keeps a tenant's own definitions from other tenants, as NOT_FOUND", async () => {
    await client.call.putDefinition({ tenant: 'private-a', name: 'secret-flow', definition: ownFlow });
    expect(await client.call.getDefinition({ tenant: 'private-a', name: 'secret-flow', version: 0 })).toMatchObject({ tenant: 'private-a' });
    const unknown = await rejection(client.call.getDefinition({ tenant: 'private-b', name: 'no-such-flow', version: 0 }));
    const foreign = await rejection(client.call.getDefinition({ tenant: 'private-b', name: 'secret-flow', version: 0 }));
    expect(foreign).toMatchObject({ reason: 'not_found', code: unknown.code });
    expect(foreign.message).toBe(unknown.message.replace('no-such-flow', 'secret-flow'));
    await expect(client.call.listDefinitions({ tenant: 'private-b', name: 'secret-flow' })).rejects.toMatchObject({ reason: 'not_found' });
    await expect(client.call.diffDefinitions({ tenant: 'private-b', name: 'secret-flow', fromVersion: 1, toVersion: 1 })).rejects.toMatchObject({ reason: 'not_found' });
    await expect(client.call.startRun(startRequest('private-b', { definitionName: 'secret-flow' }))).rejects.toMatchObject({ reason: 'not_found' });
    expect((await client.call.listDefinitions({ tenant: 'private-b', name: '' })).definitions.map((d) => d.name)).not.toContain('secret-flow');
  });

  it('refuses a tenant that is not a tenant name with INVALID_ARGUMENT naming tenant', async () => {
    for (const tenant of ['Upper', '-leading-dash', 'has space', 'a'.repeat(64), 'dot.ted']) {
      const calls: Array<Promise<unknown>> = [
        client.call.startRun(startRequest(tenant)),
        client.call.getRun({ tenant, runId: UNKNOWN_RUN }),
        client.call.listRuns(listRunsRequest(tenant)),
        client.call.getDefinition({ tenant, name: 'coding', version: 0 }),
        client.call.putDefinition({ tenant, name: 'x', definition: ownFlow }),
      ];
      for (const call of calls) {
        const err = await rejection(call);
        expect({ field: err.field, reason: err.reason }).toEqual({ field: 'tenant', reason: 'invalid' });
        expect(err.message).toContain('tenant:');
      }
    }
  });
});
