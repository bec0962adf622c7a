/**
 * WorkflowService over real gRPC (server on a free port, ts-proto client), with the engine on
 * the real PostgreSQL and NATS: what a caller sees, including error statuses and WatchRun.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { TaskLimits, WorkflowServiceClient, WorkflowServiceService, type ListRunsRequest, type Run } from '@maestro/contracts';
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

function listRunsRequest(fields: Partial<ListRunsRequest>): ListRunsRequest {
  return { tenant: '', limit: 0, status: '', definitionName: '', definitionVersion: 0, pageToken: '', ...fields };
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (err) {
    return err as UserError;
  }
  throw new Error('expected the call to fail');
}

describe('WorkflowService over gRPC', () => {
  it('serves the default coding and explain definitions', async () => {
    const def = await client.call.getDefinition({ tenant: '', name: 'coding', version: 0 });
    expect(def).toMatchObject({ name: 'coding', version: 1 });
    expect(Object.keys(def.definition?.['states'] ?? {})).toEqual(['intake', 'preflight', 'plan', 'code', 'review', 'done', 'failed', 'cancelled']);
    expect(def.createdAt).toBeInstanceOf(Date);
    const list = await client.call.listDefinitions({ tenant: '', name: '' });
    expect(list.definitions.map((d) => d.name)).toEqual(['coding', 'explain']);
    const explain = await client.call.getDefinition({ tenant: '', name: 'explain', version: 0 });
    expect(Object.keys(explain.definition?.['states'] ?? {})).toEqual(['intake', 'answer', 'done', 'failed', 'cancelled']);
  });

  it('rejects an invalid definition with INVALID_ARGUMENT naming the path at fault', async () => {
    const definition = {
      id: 'broken',
      initial: 'plan',
      states: { plan: { meta: { activity: 'plan' }, on: { 'activity.done': { target: 'cod' } } }, done: { type: 'final' } },
    };
    const err = await rejection(client.call.putDefinition({ tenant: '', name: 'broken', definition }));
    expect(err).toBeInstanceOf(UserError);
    expect(err.reason).toBe('invalid');
    expect(err.field).toBe('definition');
    // The path under the request field leads the message, for clients to point at.
    expect(err.message).toMatch(/^definition\.states\.plan\.on\["activity\.done"\]\.target: unknown state "cod"/);
    await expect(client.call.getDefinition({ tenant: '', name: 'broken', version: 0 })).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('stores a valid definition as a new version', async () => {
    const definition = { id: 'quick', initial: 'plan', states: { plan: { meta: { activity: 'plan' }, on: { 'activity.done': 'done' } }, done: { type: 'final' } } };
    expect(await client.call.putDefinition({ tenant: '', name: 'quick', definition })).toMatchObject({ name: 'quick', version: 1, definition });
    expect(await client.call.putDefinition({ tenant: '', name: 'quick', definition: { ...definition, description: 'd' } })).toMatchObject({ version: 2 });
  });

  it('names the field of bad requests', async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [client.call.getRun({ tenant: '', runId: 'abc' }), 'run_id'],
      [client.call.sendEvent({ tenant: '', runId: '', type: 'CANCEL', payload: undefined }), 'run_id'],
      [client.call.sendEvent({ tenant: '', runId: '00000000-0000-4000-8000-000000000000', type: ' ', payload: undefined }), 'type'],
      // Activity outcomes come only from ActivityResults (which are checked against state and attempt).
      [client.call.sendEvent({ tenant: '', runId: '00000000-0000-4000-8000-000000000000', type: 'activity.done', payload: { output: {} } }), 'type'],
      [client.call.sendEvent({ tenant: '', runId: '00000000-0000-4000-8000-000000000000', type: 'activity.failed', payload: undefined }), 'type'],
      [client.call.startRun({ tenant: '', definitionName: '', definitionVersion: 0, input: undefined, idempotencyKey: '' }), 'definition_name'],
      [client.call.startRun({ tenant: '', definitionName: 'coding', definitionVersion: -1, input: undefined, idempotencyKey: '' }), 'definition_version'],
      [client.call.listRuns(listRunsRequest({ status: 'sleeping' })), 'status'],
      [client.call.listRuns(listRunsRequest({ limit: 100_000 })), 'limit'],
      [client.call.putDefinition({ tenant: '', name: 'x', definition: undefined }), 'definition'],
      [client.call.putDefinition({ tenant: '', name: 'bad name', definition: {} }), 'name'],
      [client.call.listRuns(listRunsRequest({ definitionVersion: 2 })), 'definition_version'],
      [client.call.listRuns(listRunsRequest({ pageToken: 'not-a-token' })), 'page_token'],
      [client.call.getRunHistory({ tenant: '', runId: 'x', afterSeq: 0, limit: 0 }), 'run_id'],
      [client.call.getRunHistory({ tenant: '', runId: '00000000-0000-4000-8000-000000000000', afterSeq: -1, limit: 0 }), 'after_seq'],
      [client.call.getRunHistory({ tenant: '', runId: '00000000-0000-4000-8000-000000000000', afterSeq: 0, limit: 5001 }), 'limit'],
      [client.call.cancelRun({ tenant: '', runId: '', reason: '' }), 'run_id'],
      [client.call.cancelRun({ tenant: '', runId: '00000000-0000-4000-8000-000000000000', reason: 'x'.repeat(TaskLimits.cancelReasonMaxChars + 1) }), 'reason'],
      [client.call.diffDefinitions({ tenant: '', name: '', fromVersion: 1, toVersion: 2 }), 'name'],
      [client.call.diffDefinitions({ tenant: '', name: 'coding', fromVersion: 0, toVersion: 1 }), 'from_version'],
      [client.call.diffDefinitions({ tenant: '', name: 'coding', fromVersion: 1, toVersion: -3 }), 'to_version'],
    ];
    for (const [call, field] of cases) {
      const err = await rejection(call);
      expect({ field: err.field, reason: err.reason }).toEqual({ field, reason: 'invalid' });
      expect(err.message).toContain(`${field}:`);
    }
    const unknown = '00000000-0000-4000-8000-000000000000';
    await expect(client.call.getRun({ tenant: '', runId: unknown })).rejects.toMatchObject({ reason: 'not_found' });
    await expect(client.call.getRunHistory({ tenant: '', runId: unknown, afterSeq: 0, limit: 0 })).rejects.toMatchObject({ reason: 'not_found' });
    await expect(client.call.cancelRun({ tenant: '', runId: unknown, reason: '' })).rejects.toMatchObject({ reason: 'not_found' });
    await expect(client.call.listDefinitions({ tenant: '', name: 'nothing-here' })).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('lists every version of one definition newest first, and diffs two of them as JSON pointers', async () => {
    const v1 = { id: 'diffy', initial: 'plan', states: { plan: { meta: { activity: 'plan' }, on: { 'activity.done': 'done' } }, done: { type: 'final' } } };
    const v2 = { ...v1, description: 'second', states: { ...v1.states, plan: { meta: { activity: 'plan', timeoutMs: 1000 }, on: { 'activity.done': 'done' } } } };
    await client.call.putDefinition({ tenant: '', name: 'diffy', definition: v1 });
    await client.call.putDefinition({ tenant: '', name: 'diffy', definition: v2 });
    expect((await client.call.listDefinitions({ tenant: '', name: 'diffy' })).definitions.map((d) => d.version)).toEqual([2, 1]);
    expect((await client.call.listDefinitions({ tenant: '', name: '' })).definitions.find((d) => d.name === 'diffy')?.version).toBe(2);

    const diff = await client.call.diffDefinitions({ tenant: '', name: 'diffy', fromVersion: 1, toVersion: 2 });
    expect(diff).toEqual({
      name: 'diffy',
      fromVersion: 1,
      toVersion: 2,
      changes: [
        { path: '/description', op: 'added', after: 'second' },
        { path: '/states/plan/meta/timeoutMs', op: 'added', after: 1000 },
      ],
    });
    expect((await client.call.diffDefinitions({ tenant: '', name: 'diffy', fromVersion: 2, toVersion: 1 })).changes.map((c) => [c.path, c.op, c.before])).toEqual([
      ['/description', 'removed', 'second'],
      ['/states/plan/meta/timeoutMs', 'removed', 1000],
    ]);
    const missing = await rejection(client.call.diffDefinitions({ tenant: '', name: 'diffy', fromVersion: 1, toVersion: 9 }));
    expect(missing).toMatchObject({ reason: 'not_found', message: expect.stringContaining('diffy version 9') });
  });

  it('pages runs of one definition version newest first with opaque tokens', async () => {
    const flow = { id: 'paged', initial: 'plan', states: { plan: { meta: { activity: 'plan' }, on: { CANCEL: 'cancelled' } }, cancelled: { type: 'final' } } };
    const v1 = await client.call.putDefinition({ tenant: '', name: 'paged', definition: flow });
    const started: string[] = [];
    for (let i = 0; i < 5; i++) started.push((await client.call.startRun({ tenant: '', definitionName: 'paged', definitionVersion: 0, input: { i }, idempotencyKey: '' })).id);
    await client.call.putDefinition({ tenant: '', name: 'paged', definition: { ...flow, description: 'v2' } });
    const pinnedToV2 = (await client.call.startRun({ tenant: '', definitionName: 'paged', definitionVersion: 0, input: {}, idempotencyKey: '' })).id;

    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await client.call.listRuns(listRunsRequest({ limit: 2, definitionName: 'paged', definitionVersion: v1.version, pageToken }));
      expect(page.runs.every((r) => r.definitionVersion === v1.version && r.history.length === 0)).toBe(true);
      seen.push(...page.runs.map((r) => r.id));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== '');
    expect(pages).toBe(3);
    expect(new Set(seen)).toEqual(new Set(started));
    expect(seen).toHaveLength(5);
    const all = (await client.call.listRuns(listRunsRequest({ limit: 10, definitionName: 'paged' }))).runs.map((r) => r.id);
    expect(all).toHaveLength(6);
    expect(all.slice(1)).toEqual(seen);
    expect(all[0]).toBe(pinnedToV2);

    // A token belongs to its filters.
    const first = await client.call.listRuns(listRunsRequest({ limit: 2, definitionName: 'paged' }));
    const err = await rejection(client.call.listRuns(listRunsRequest({ limit: 2, definitionName: 'paged', status: 'done', pageToken: first.nextPageToken })));
    expect(err).toMatchObject({ reason: 'invalid', field: 'page_token' });
  });

  it('cancels a run with a reason, returns an ended run as it is, and pages its history', async () => {
    const run = await client.call.startRun({ tenant: '', definitionName: 'coding', definitionVersion: 0, input: {}, idempotencyKey: '' });
    const request = await env.requests.waitFor((r) => r.runId === run.id && r.state === 'intake', 'intake request');
    await env.publishResult(resultFor(request, { ok: true, output: {} }));
    await env.requests.waitFor((r) => r.runId === run.id && r.state === 'preflight', 'preflight request');

    const cancelled = await client.call.cancelRun({ tenant: '', runId: run.id, reason: 'wrong repository' });
    expect(cancelled).toMatchObject({ status: 'cancelled', state: 'cancelled' });
    expect(cancelled.history[1]).toMatchObject({ seq: 2, eventType: 'CANCEL', event: { type: 'CANCEL', reason: 'wrong repository' } });
    const again = await client.call.cancelRun({ tenant: '', runId: run.id, reason: 'twice' });
    expect(again).toEqual(cancelled);

    const page1 = await client.call.getRunHistory({ tenant: '', runId: run.id, afterSeq: 0, limit: 1 });
    expect(page1).toMatchObject({ runId: run.id, nextAfterSeq: 1, transitions: [{ seq: 1, fromState: 'intake', toState: 'preflight' }] });
    const page2 = await client.call.getRunHistory({ tenant: '', runId: run.id, afterSeq: page1.nextAfterSeq, limit: 1 });
    expect(page2).toMatchObject({ nextAfterSeq: 0, transitions: [{ seq: 2, toState: 'cancelled' }] });
    expect((await client.call.getRunHistory({ tenant: '', runId: run.id, afterSeq: 0, limit: 0 })).transitions).toHaveLength(2);
  });

  it('records a note in a run\'s history once per note id, without moving the run or asking for its work again', async () => {
    const run = await client.call.startRun({ tenant: '', definitionName: 'coding', definitionVersion: 0, input: {}, idempotencyKey: '' });
    const request = await env.requests.waitFor((r) => r.runId === run.id && r.state === 'intake', 'intake request');
    const note = { tenant: '', runId: run.id, type: 'escalation.raised', noteId: 'esc-1:raised', data: { escalationId: 'esc-1', subtaskId: 's1', reason: 'tests still failing' } };
    const first = await client.call.recordRunNote(note);
    expect(first).toMatchObject({ seq: 1, fromState: 'intake', toState: 'intake', eventType: 'escalation.raised', note: true, event: { ...note.data, note: true, noteId: 'esc-1:raised' } });
    expect(await client.call.recordRunNote({ ...note, data: { reason: 'a second delivery' } })).toEqual(first);
    await env.runEvents.waitFor((e) => e.runId === run.id && e.subject === 'maestro.events.run.transitioned' && e.seq === 1 && e.note === true, 'the note\'s run.transitioned');

    // The run did not move: the same state and attempt; its work is answered as before.
    expect(await client.call.getRun({ tenant: '', runId: run.id })).toMatchObject({ state: 'intake', attempt: 1, status: 'running', history: [expect.objectContaining({ seq: 1, note: true })] });
    await env.publishResult(resultFor(request, { ok: true, output: {} }));
    await env.requests.waitFor((r) => r.runId === run.id && r.state === 'preflight', 'preflight request');
    expect(env.requests.all.filter((r) => r.runId === run.id && r.state === 'intake')).toHaveLength(1);
    const history = await client.call.getRunHistory({ tenant: '', runId: run.id, afterSeq: 0, limit: 0 });
    expect(history.transitions.map((t) => [t.seq, t.fromState, t.toState, t.note])).toEqual([
      [1, 'intake', 'intake', true],
      [2, 'intake', 'preflight', false],
    ]);

    await expect(client.call.recordRunNote({ ...note, tenant: 'globex' })).rejects.toMatchObject({ reason: 'not_found' });
    await expect(client.call.recordRunNote({ ...note, type: 'activity.done' })).rejects.toMatchObject({ reason: 'invalid', field: 'type' });
    await expect(client.call.recordRunNote({ ...note, noteId: ' ' })).rejects.toMatchObject({ reason: 'invalid', field: 'note_id' });
  });

  it('starts, lists, cancels and reads a run', async () => {
    const run = await client.call.startRun({ tenant: '', definitionName: 'coding', definitionVersion: 0, input: { taskId: 'grpc-1', nested: { list: [1, 'two', null] } }, idempotencyKey: '' });
    expect(run).toMatchObject({ definitionName: 'coding', definitionVersion: 1, status: 'running', state: 'intake', attempt: 1, history: [] });
    expect(run.context).toEqual({ input: { taskId: 'grpc-1', nested: { list: [1, 'two', null] } }, outputs: {} });

    const running = await client.call.listRuns(listRunsRequest({ limit: 10, status: 'running' }));
    expect(running.runs.map((r) => r.id)).toContain(run.id);

    const cancelled = await client.call.sendEvent({ tenant: '', runId: run.id, type: 'CANCEL', payload: { by: 'test' } });
    expect(cancelled).toMatchObject({ status: 'cancelled', state: 'cancelled' });
    expect(cancelled.history).toEqual([expect.objectContaining({ seq: 1, fromState: 'intake', toState: 'cancelled', eventType: 'CANCEL', event: { type: 'CANCEL', by: 'test' } })]);
    expect(await client.call.getRun({ tenant: '', runId: run.id })).toMatchObject({ status: 'cancelled', history: [expect.objectContaining({ seq: 1 })] });
    expect((await client.call.listRuns(listRunsRequest({ limit: 10, status: 'cancelled' }))).runs.map((r) => r.id)).toContain(run.id);
  });

  it('WatchRun streams the run, then each transition, and ends with the run', async () => {
    const run = await client.call.startRun({ tenant: '', definitionName: 'coding', definitionVersion: 0, input: {}, idempotencyKey: '' });
    const stream = client.raw.watchRun({ tenant: '', runId: run.id }, client.metadata());
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
    const run = await client.call.startRun({ tenant: '', definitionName: 'coding', definitionVersion: 0, input: {}, idempotencyKey: '' });
    const stream = client.raw.watchRun({ tenant: '', runId: run.id }, client.metadata());
    const first = await new Promise<Run>((resolve) => stream.once('data', resolve));
    expect(first.state).toBe('intake');
    const cancelled = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    stream.cancel();
    expect((await cancelled).code).toBe(GrpcStatus.CANCELLED);

    const missing = client.raw.watchRun({ tenant: '', runId: '00000000-0000-4000-8000-000000000000' }, client.metadata());
    missing.on('data', () => undefined);
    const err = await new Promise<ServiceError>((resolve) => missing.on('error', resolve));
    expect(err.code).toBe(GrpcStatus.NOT_FOUND);
  });
});
