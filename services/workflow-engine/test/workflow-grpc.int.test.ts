/**
 * WorkflowService over real gRPC (server on a free port, ts-proto client), with the engine on
 * the real PostgreSQL and NATS: what a caller sees, including error statuses and WatchRun.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { WorkflowServiceClient, WorkflowServiceService, type Run } from '@maestro/contracts';
import { createGrpcClient, createGrpcServer, createSilentLogger, UserError, type GrpcClient, type GrpcServer } from '@maestro/runtime';
import { createWorkflowHandlers } from '../src/transport/grpc/workflow.handler.js';
import { createEnvironment, resultFor, startEngine, type EngineInstance, type Environment } from './harness.js';

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

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (err) {
    return err as UserError;
  }
  throw new Error('expected the call to fail');
}

describe('WorkflowService over gRPC', () => {
  it('serves the default coding definition', async () => {
    const def = await client.call.getDefinition({ name: 'coding', version: 0 });
    expect(def).toMatchObject({ name: 'coding', version: 1 });
    expect(Object.keys(def.definition?.['states'] ?? {})).toEqual(['intake', 'preflight', 'plan', 'code', 'review', 'done', 'failed', 'cancelled']);
    expect(def.createdAt).toBeInstanceOf(Date);
    const list = await client.call.listDefinitions({});
    expect(list.definitions.map((d) => d.name)).toEqual(['coding']);
  });

  it('rejects an invalid definition with INVALID_ARGUMENT naming the path at fault', async () => {
    const definition = {
      id: 'broken',
      initial: 'plan',
      states: { plan: { meta: { activity: 'plan' }, on: { 'activity.done': { target: 'cod' } } }, done: { type: 'final' } },
    };
    const err = await rejection(client.call.putDefinition({ name: 'broken', definition }));
    expect(err).toBeInstanceOf(UserError);
    expect(err.reason).toBe('invalid');
    expect(err.field).toBe('definition');
    expect(err.message).toContain('states.plan.on["activity.done"].target: unknown state "cod"');
    await expect(client.call.getDefinition({ name: 'broken', version: 0 })).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('stores a valid definition as a new version', async () => {
    const definition = { id: 'quick', initial: 'plan', states: { plan: { meta: { activity: 'plan' }, on: { 'activity.done': 'done' } }, done: { type: 'final' } } };
    expect(await client.call.putDefinition({ name: 'quick', definition })).toMatchObject({ name: 'quick', version: 1, definition });
    expect(await client.call.putDefinition({ name: 'quick', definition: { ...definition, description: 'd' } })).toMatchObject({ version: 2 });
  });

  it('names the field of bad requests', async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [client.call.getRun({ runId: 'abc' }), 'run_id'],
      [client.call.sendEvent({ runId: '', type: 'CANCEL', payload: undefined }), 'run_id'],
      [client.call.sendEvent({ runId: '00000000-0000-4000-8000-000000000000', type: ' ', payload: undefined }), 'type'],
      // Activity outcomes come only from ActivityResults (which are checked against state and attempt).
      [client.call.sendEvent({ runId: '00000000-0000-4000-8000-000000000000', type: 'activity.done', payload: { output: {} } }), 'type'],
      [client.call.sendEvent({ runId: '00000000-0000-4000-8000-000000000000', type: 'activity.failed', payload: undefined }), 'type'],
      [client.call.startRun({ definitionName: '', definitionVersion: 0, input: undefined, idempotencyKey: '' }), 'definition_name'],
      [client.call.startRun({ definitionName: 'coding', definitionVersion: -1, input: undefined, idempotencyKey: '' }), 'definition_version'],
      [client.call.listRuns({ limit: 0, status: 'sleeping' }), 'status'],
      [client.call.listRuns({ limit: 100_000, status: '' }), 'limit'],
      [client.call.putDefinition({ name: 'x', definition: undefined }), 'definition'],
      [client.call.putDefinition({ name: 'bad name', definition: {} }), 'name'],
    ];
    for (const [call, field] of cases) {
      const err = await rejection(call);
      expect({ field: err.field, reason: err.reason }).toEqual({ field, reason: 'invalid' });
      expect(err.message).toContain(`${field}:`);
    }
    await expect(client.call.getRun({ runId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('starts, lists, cancels and reads a run', async () => {
    const run = await client.call.startRun({ definitionName: 'coding', definitionVersion: 0, input: { taskId: 'grpc-1', nested: { list: [1, 'two', null] } }, idempotencyKey: '' });
    expect(run).toMatchObject({ definitionName: 'coding', definitionVersion: 1, status: 'running', state: 'intake', attempt: 1, history: [] });
    expect(run.context).toEqual({ input: { taskId: 'grpc-1', nested: { list: [1, 'two', null] } }, outputs: {} });

    const running = await client.call.listRuns({ limit: 10, status: 'running' });
    expect(running.runs.map((r) => r.id)).toContain(run.id);

    const cancelled = await client.call.sendEvent({ runId: run.id, type: 'CANCEL', payload: { by: 'test' } });
    expect(cancelled).toMatchObject({ status: 'cancelled', state: 'cancelled' });
    expect(cancelled.history).toEqual([expect.objectContaining({ seq: 1, fromState: 'intake', toState: 'cancelled', eventType: 'CANCEL', event: { type: 'CANCEL', by: 'test' } })]);
    expect(await client.call.getRun({ runId: run.id })).toMatchObject({ status: 'cancelled', history: [expect.objectContaining({ seq: 1 })] });
    expect((await client.call.listRuns({ limit: 10, status: 'cancelled' })).runs.map((r) => r.id)).toContain(run.id);
  });

  it('WatchRun streams the run, then each transition, and ends with the run', async () => {
    const run = await client.call.startRun({ definitionName: 'coding', definitionVersion: 0, input: {}, idempotencyKey: '' });
    const stream = client.raw.watchRun({ runId: run.id }, client.metadata());
    const received: Run[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (message: Run) => {
        received.push(message);
        // Drive the run one step each time the stream shows the next state.
        if (message.status === 'running') {
          void env.requests
            .waitFor((r) => r.runId === run.id && r.state === message.state, `request ${message.state}`)
            .then((request) => env.publishResult(resultFor(request, { ok: true, output: { approved: true } })));
        }
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    await ended;
    expect(received.map((r) => r.state)).toEqual(['intake', 'preflight', 'plan', 'code', 'review', 'done']);
    expect(received.map((r) => r.history.length)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(received[received.length - 1]?.status).toBe('done');
  });

  it('WatchRun ends when the client cancels, and rejects unknown runs', async () => {
    const run = await client.call.startRun({ definitionName: 'coding', definitionVersion: 0, input: {}, idempotencyKey: '' });
    const stream = client.raw.watchRun({ runId: run.id }, client.metadata());
    const first = await new Promise<Run>((resolve) => stream.once('data', resolve));
    expect(first.state).toBe('intake');
    const cancelled = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    stream.cancel();
    expect((await cancelled).code).toBe(GrpcStatus.CANCELLED);

    const missing = client.raw.watchRun({ runId: '00000000-0000-4000-8000-000000000000' }, client.metadata());
    missing.on('data', () => undefined);
    const err = await new Promise<ServiceError>((resolve) => missing.on('error', resolve));
    expect(err.code).toBe(GrpcStatus.NOT_FOUND);
  });
});
