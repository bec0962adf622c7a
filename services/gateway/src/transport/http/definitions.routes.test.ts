import { UserError } from '@maestro/runtime';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { serve, type ServedApp } from '../../../test/serve.js';
import { toDefinitionFault } from './definitions.routes.js';
import { authedFetch } from '../../../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

const review = { id: 'review', initial: 'review', states: { review: { on: { DONE: 'done' } }, done: { type: 'final' } } };

let fakes: FakeUpstreams;
let app: ServedApp;
beforeEach(async () => {
  fakes = createFakeUpstreams();
  app = await serve(depsOf(fakes));
});
afterEach(async () => {
  await app.close();
});

async function put(name: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}/v1/definitions/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}${path}`);
  return { status: response.status, body: await response.json() };
}

describe('/v1/definitions', () => {
  it('stores a new version with 201, answers an identical document with 200 and the same version', async () => {
    const first = await put('review', review);
    expect(first).toEqual({ status: 201, body: { name: 'review', tenant: 'default', version: 1, createdAt: '2030-01-02T03:04:05.000Z', definition: review } });
    expect(await put('review', review)).toEqual({ status: 200, body: first.body });
    const changed = { ...review, states: { ...review.states, review: { on: { DONE: 'done', AGAIN: 'review' } } } };
    expect(await put('review', changed)).toMatchObject({ status: 201, body: { version: 2 } });
  });

  it('refuses a faulty document with 400 naming the path of the first fault inside the body', async () => {
    // The fake answers with the engine's own validator, so this is the engine's exact error.
    const answer = await put('review', { id: 'review', initial: 'review', states: { review: { on: { DONE: 'finished' } } } });
    expect(answer).toEqual({
      status: 400,
      body: {
        error: {
          code: 'INVALID_DEFINITION',
          message: 'states.review.on.DONE: unknown state "finished" (known: review); states: needs at least one final state (type: "final")',
          field: 'states.review.on.DONE',
        },
      },
    });
    expect(await put('review', { initial: 'review', states: { review: { type: 'final' } } })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_DEFINITION', field: 'id' } },
    });
    expect(await put('review', { ...review, states: { ...review.states, 'bad name': { type: 'final' } } })).toMatchObject({
      status: 400,
      body: { error: { field: 'states["bad name"]' } },
    });
  });

  it('maps the engine\'s problem list: first path as field, paths relative to the body, no field for the whole document', () => {
    const fault = (message: string) => toDefinitionFault(new UserError('INVALID_DEFINITION', message, { field: 'definition' })) as UserError;
    expect(fault('definition.states.plan.on["activity.done"].target: unknown state "cod" (known: a; b); definition.initial: x')).toMatchObject({
      field: 'states.plan.on["activity.done"].target',
      message: 'states.plan.on["activity.done"].target: unknown state "cod" (known: a; b); initial: x',
    });
    expect(fault('definition["odd-key"]: unknown field')).toMatchObject({ field: '["odd-key"]', message: '["odd-key"]: unknown field' });
    expect(fault('definition.states.review.on.CANCEL[1].guard: unknown guard "g"').field).toBe('states.review.on.CANCEL[1].guard');
    const whole = fault('definition: XState rejects the machine: boom');
    expect([whole.field, whole.message]).toEqual([undefined, 'definition: XState rejects the machine: boom']);
    const other = new UserError('INVALID_ARGUMENT', 'name: bad', { field: 'name' });
    expect(toDefinitionFault(other)).toBe(other);
  });

  it('reads the latest, one version, every version newest first, and 404s what does not exist', async () => {
    await put('review', review);
    await put('review', { ...review, states: { ...review.states, extra: { type: 'final' } } });
    expect((await get('/v1/definitions/review')).body.version).toBe(2);
    expect((await get('/v1/definitions/review?version=1')).body.definition).toEqual(review);
    expect((await get('/v1/definitions/review/versions')).body.definitions.map((d: { version: number }) => d.version)).toEqual([2, 1]);
    expect((await get('/v1/definitions')).body.definitions.map((d: { name: string; version: number }) => [d.name, d.version])).toEqual([['review', 2]]);
    expect(await get('/v1/definitions/review?version=7')).toMatchObject({ status: 404, body: { error: { code: 'DEFINITION_NOT_FOUND' } } });
    expect(await get('/v1/definitions/nothing/versions')).toMatchObject({ status: 404, body: { error: { code: 'DEFINITION_NOT_FOUND' } } });
  });

  it('diffs two versions as JSON-pointer changes', async () => {
    await put('review', review);
    await put('review', { id: 'review', initial: 'review', states: { review: { on: { DONE: 'extra' } }, extra: { type: 'final' } } });
    expect(await get('/v1/definitions/review/diff?from=1&to=2')).toEqual({
      status: 200,
      body: {
        name: 'review',
        fromVersion: 1,
        toVersion: 2,
        changes: [
          { path: '/states/done', op: 'removed', before: { type: 'final' } },
          { path: '/states/extra', op: 'added', after: { type: 'final' } },
          { path: '/states/review/on/DONE', op: 'changed', before: 'done', after: 'extra' },
        ],
      },
    });
    expect(await get('/v1/definitions/review/diff?from=1&to=3')).toMatchObject({ status: 404 });
  });

  it('lists the runs pinned to a definition version', async () => {
    await put('review', review);
    await put('review', { ...review, states: { ...review.states, extra: { type: 'final' } } });
    const old = await fakes.workflow.startRun('review', {}, 1);
    await fakes.workflow.startRun('review');
    const answer = await get('/v1/definitions/review/runs?version=1');
    expect(answer.body).toEqual({ runs: [expect.objectContaining({ id: old.id, definitionVersion: 1 })], nextPageToken: '' });
    expect(answer.body.runs[0]).not.toHaveProperty('history');
  });
});
