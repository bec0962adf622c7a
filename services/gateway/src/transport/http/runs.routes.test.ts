import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { callJson, serve, type JsonReply, type ServedApp } from '../../../test/serve.js';
import { authedFetch } from '../../../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

const gated = { id: 'gated', initial: 'plan', states: { plan: { on: { PLANNED: 'approve' } }, approve: { on: { APPROVED: 'done' } }, done: { type: 'final' } } };

let fakes: FakeUpstreams;
let app: ServedApp;
beforeEach(async () => {
  fakes = createFakeUpstreams();
  await fakes.workflow.putDefinition({ tenant: 'default', name: 'gated', definition: gated });
  app = await serve(depsOf(fakes));
});
afterEach(async () => {
  await app.close();
});

const call = (method: string, path: string, body?: unknown): Promise<JsonReply> => callJson(fetch, app, method, path, body);

describe('/v1/runs', () => {
  it('lists runs newest first without history, filtered, a page at a time', async () => {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await fakes.workflow.startRun('gated'));
    await fakes.workflow.cancelRun({ tenant: 'default', runId: runs[0]!.id, reason: 'test' });
    const first = await call('GET', '/v1/runs?status=running&limit=1');
    expect(first.body.runs.map((r: { id: string }) => r.id)).toEqual([runs[2]!.id]);
    expect(first.body.runs[0]).not.toHaveProperty('history');
    const second = await call('GET', `/v1/runs?status=running&limit=1&pageToken=${first.body.nextPageToken}`);
    expect(second.body).toEqual({ runs: [expect.objectContaining({ id: runs[1]!.id })], nextPageToken: '' });
    expect(await call('GET', '/v1/runs?version=1')).toMatchObject({ status: 400, body: { error: { field: 'version' } } });
    expect(await call('GET', '/v1/runs?pageToken=bogus')).toMatchObject({ status: 400, body: { error: { field: 'pageToken' } } });
  });

  it('names the path parameter id when the engine refuses a run id that is not a UUID', async () => {
    const notUuid = 'run-1';
    for (const [method, path] of [['GET', ''], ['GET', '/history'], ['POST', '/events'], ['POST', '/cancel'], ['GET', '/events']] as const) {
      const answer = await call(method, `/v1/runs/${notUuid}${path}`, path === '/events' && method === 'POST' ? { type: 'APPROVED' } : undefined);
      expect({ method, path, ...answer }).toEqual({
        method,
        path,
        status: 400,
        body: { error: { code: 'INVALID_ARGUMENT', message: 'id: must be a UUID (got "run-1")', field: 'id' } },
      });
    }
  });

  it('pages a run\'s history by seq', async () => {
    const run = await fakes.workflow.startRun('gated');
    await fakes.workflow.sendEvent({ tenant: 'default', runId: run.id, type: 'PLANNED', payload: {} });
    await fakes.workflow.sendEvent({ tenant: 'default', runId: run.id, type: 'APPROVED', payload: {} });
    const first = await call('GET', `/v1/runs/${run.id}/history?limit=2`);
    expect(first.body.transitions.map((t: { toState: string }) => t.toState)).toEqual(['plan', 'approve']);
    expect(first.body.nextAfterSeq).toBe(2);
    const rest = await call('GET', `/v1/runs/${run.id}/history?afterSeq=2`);
    expect(rest.body).toMatchObject({ runId: run.id, transitions: [{ seq: 3, toState: 'done' }], nextAfterSeq: 0 });
    expect(await call('GET', '/v1/runs/3b0c9d2e-0000-4000-8000-000000000000/history')).toMatchObject({ status: 404, body: { error: { code: 'RUN_NOT_FOUND' } } });
  });

  it('sends a person\'s event to a gated run; one its state does not take changes nothing, as the engine does', async () => {
    const run = await fakes.workflow.startRun('gated');
    await fakes.workflow.sendEvent({ tenant: 'default', runId: run.id, type: 'PLANNED', payload: {} });
    const approved = await call('POST', `/v1/runs/${run.id}/events`, { type: 'APPROVED', payload: { by: 'alice' } });
    expect(approved).toMatchObject({ status: 200, body: { id: run.id, state: 'done', status: 'done' } });
    expect(approved.body.history.at(-1)).toMatchObject({ eventType: 'APPROVED', event: { by: 'alice', type: 'APPROVED' } });
    const ignored = await call('POST', `/v1/runs/${run.id}/events`, { type: 'APPROVED' });
    expect(ignored).toMatchObject({ status: 200, body: { state: 'done', status: 'done' } });
    expect(ignored.body.history).toHaveLength(approved.body.history.length);
    expect(await call('POST', `/v1/runs/${run.id}/events`, { type: 'activity.done' })).toMatchObject({ status: 400, body: { error: { field: 'type' } } });
    expect(await call('POST', `/v1/runs/${run.id}/events`, { payload: {} })).toMatchObject({ status: 400, body: { error: { field: 'type' } } });
  });

  it('cancels a running run and returns an ended one as it is', async () => {
    const run = await fakes.workflow.startRun('gated');
    expect(await call('POST', `/v1/runs/${run.id}/cancel`, { reason: 'superseded' })).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    const again = await call('POST', `/v1/runs/${run.id}/cancel`);
    expect(again).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(again.body.history.filter((t: { eventType: string }) => t.eventType === 'CANCEL')).toHaveLength(1);
  });
});
