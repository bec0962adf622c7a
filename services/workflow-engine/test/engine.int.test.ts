/**
 * The engine against the real PostgreSQL and NATS: runs of the default `coding` definition
 * driven by activity results over JetStream, as the orchestrator drives them.
 */
import { OperationalError } from '@maestro/runtime';
import { Consumers, Streams, type ActivityRequest, type WorkQueue } from '@maestro/contracts';
import { NatsRunEventsPublisher } from '../src/transport/nats/run-events.publisher.js';
import { RESULT_MAX_DELIVER, resultBackoffMs } from '../src/transport/nats/activity-result.subscriber.js';
import type { RunView } from '../src/engine.js';
import { createEnvironment, resultFor, startEngine, type EngineInstance, type Environment } from './harness.js';

let env: Environment;
let instance: EngineInstance;

beforeAll(async () => {
  env = await createEnvironment();
  instance = await startEngine(env);
});

afterAll(async () => {
  await instance?.stop();
  await env?.close();
});

function requestFor(runId: string, state: string, attempt = 1): Promise<ActivityRequest> {
  return env.requests.waitFor((r) => r.runId === runId && r.state === state && r.attempt === attempt, `activity request ${runId} ${state}#${attempt}`);
}

async function waitForRun(runId: string, until: (run: RunView) => boolean, what: string): Promise<RunView> {
  // Watching (not polling) the run: resolves on the change the test waits for.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  try {
    let last: RunView | undefined;
    for await (const run of instance.engine.watchRun(runId, abort.signal)) {
      last = run;
      if (until(run)) return run;
    }
    throw new Error(`run ${runId} never reached ${what}; last seen: ${last?.state} (${last?.status})`);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

describe('a coding run', () => {
  it('goes intake → preflight → plan → code → review → done on activity results, with one history row per transition', async () => {
    const started = await instance.engine.startRun({ definitionName: 'coding', input: { taskId: 'task-1', goal: 'add --verbose' } });
    expect(started).toMatchObject({ status: 'running', state: 'intake', attempt: 1, history: [] });
    expect(started.context).toEqual({ input: { taskId: 'task-1', goal: 'add --verbose' }, outputs: {} });

    const outputs: Record<string, Record<string, unknown>> = {
      intake: { goal: 'add a --verbose flag' },
      preflight: { baselineFailures: [] },
      plan: { subtasks: [{ id: 's1', title: 'flag' }] },
      code: { commits: ['abc123'] },
      review: { approved: true, summary: 'looks right' },
    };
    for (const state of ['intake', 'preflight', 'plan', 'code', 'review']) {
      const request = await requestFor(started.id, state);
      expect(request).toMatchObject({ workId: `${started.id}:${state}:1`, activity: state, attempt: 1 });
      expect(request.context['input']).toEqual({ taskId: 'task-1', goal: 'add --verbose' });
      await env.publishResult(resultFor(request, { ok: true, output: outputs[state] }));
    }

    const done = await waitForRun(started.id, (r) => r.status === 'done', 'done');
    expect(done.state).toBe('done');
    expect(done.context['outputs']).toEqual(outputs);
    expect(done.history.map((h) => [h.seq, h.fromState, h.toState, h.eventType])).toEqual([
      [1, 'intake', 'preflight', 'activity.done'],
      [2, 'preflight', 'plan', 'activity.done'],
      [3, 'plan', 'code', 'activity.done'],
      [4, 'code', 'review', 'activity.done'],
      [5, 'review', 'done', 'activity.done'],
    ]);
    expect(done.history[0]?.event).toMatchObject({ type: 'activity.done', workId: `${started.id}:intake:1`, output: outputs['intake'] });

    const finished = await env.runEvents.waitFor((e) => e.runId === started.id && e.subject === 'maestro.events.run.finished', 'run.finished');
    // seq: the transition that finished the run, so followers can tell they saw everything.
    expect(finished).toMatchObject({ status: 'done', state: 'done', seq: 5, definitionName: 'coding', input: { taskId: 'task-1', goal: 'add --verbose' } });
    await env.runEvents.waitFor((e) => e.runId === started.id && e.subject === 'maestro.events.run.transitioned' && e.seq === 5, 'run.transitioned #5');
    const ofRun = env.runEvents.all.filter((e) => e.runId === started.id);
    expect(ofRun.filter((e) => e.subject === 'maestro.events.run.started')).toHaveLength(1);
    expect(ofRun.filter((e) => e.subject === 'maestro.events.run.transitioned').map((e) => [e.seq, e.fromState, e.state])).toEqual([
      [1, 'intake', 'preflight'],
      [2, 'preflight', 'plan'],
      [3, 'plan', 'code'],
      [4, 'code', 'review'],
      [5, 'review', 'done'],
    ]);
    // Exactly one request per state: nothing was requested twice.
    expect(env.requests.all.filter((r) => r.runId === started.id).map((r) => r.state)).toEqual(['intake', 'preflight', 'plan', 'code', 'review']);
  });

  it('applies a result once however often it is delivered, and ignores stale results', async () => {
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    const intake = await requestFor(run.id, 'intake');
    const result = resultFor(intake, { ok: true, output: { goal: 'g' } });

    // The same result three times (as redeliveries), plus results for another attempt and state.
    await env.publishResult(result);
    await env.publishResult(result);
    await env.publishResult({ ...result, attempt: 2, workId: `${run.id}:intake:2` });
    await requestFor(run.id, 'preflight');
    await env.publishResult(result);
    expect(await instance.engine.applyActivityResult(result)).toMatchObject({ applied: false, reason: expect.stringContaining('stale') });
    expect(await instance.engine.applyActivityResult({ ...result, state: 'preflight', attempt: 2 })).toMatchObject({ applied: false });

    // Move on, so every delivery above has been handled before we look.
    const preflight = await requestFor(run.id, 'preflight');
    await env.publishResult(resultFor(preflight, { ok: true }));
    const atPlan = await waitForRun(run.id, (r) => r.state === 'plan', 'plan');
    expect(atPlan.history.map((h) => [h.fromState, h.toState])).toEqual([
      ['intake', 'preflight'],
      ['preflight', 'plan'],
    ]);
    expect(atPlan.context['outputs']).toEqual({ intake: { goal: 'g' }, preflight: {} });
  });

  it('fails the run when an activity fails, and when the review does not approve', async () => {
    const a = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    await env.publishResult(resultFor(await requestFor(a.id, 'intake'), { ok: false, code: 'REPO_MISSING', message: 'no such repository' }));
    const failed = await waitForRun(a.id, (r) => r.status !== 'running', 'failed');
    expect(failed).toMatchObject({ status: 'failed', state: 'failed' });
    expect(failed.context['error']).toEqual({ code: 'REPO_MISSING', message: 'no such repository', state: 'intake' });
    const event = await env.runEvents.waitFor((e) => e.runId === a.id && e.subject === 'maestro.events.run.finished', 'run.finished');
    expect(event.error).toEqual({ code: 'REPO_MISSING', message: 'no such repository' });

    const b = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    for (const state of ['intake', 'preflight', 'plan', 'code']) await env.publishResult(resultFor(await requestFor(b.id, state), { ok: true }));
    await env.publishResult(resultFor(await requestFor(b.id, 'review'), { ok: true, output: { approved: false, reason: 'tests fail' } }));
    const rejected = await waitForRun(b.id, (r) => r.status !== 'running', 'failed');
    expect(rejected).toMatchObject({ status: 'failed', state: 'failed' });
    expect(rejected.context['error']).toMatchObject({ code: 'REVIEW_REJECTED', message: 'tests fail' });
  });

  it('is cancelled by CANCEL, after which results change nothing', async () => {
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    const intake = await requestFor(run.id, 'intake');
    const cancelled = await instance.engine.sendEvent(run.id, { type: 'CANCEL', reason: 'changed my mind' });
    expect(cancelled).toMatchObject({ status: 'cancelled', state: 'cancelled' });
    expect(cancelled.history).toEqual([expect.objectContaining({ seq: 1, fromState: 'intake', toState: 'cancelled', eventType: 'CANCEL', event: { type: 'CANCEL', reason: 'changed my mind' } })]);
    await env.runEvents.waitFor((e) => e.runId === run.id && e.subject === 'maestro.events.run.finished' && e.status === 'cancelled', 'run.finished cancelled');

    expect(await instance.engine.applyActivityResult(resultFor(intake, { ok: true }))).toMatchObject({ applied: false, reason: 'run is cancelled' });
    const again = await instance.engine.sendEvent(run.id, { type: 'CANCEL' });
    expect(again.history).toHaveLength(1);
    expect((await instance.engine.getRun(run.id)).status).toBe('cancelled');
  });

  it('refuses activity.* events from SendEvent, naming the type, and leaves the run as it was', async () => {
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    await requestFor(run.id, 'intake');
    for (const type of ['activity.done', 'activity.failed', 'activity.anything']) {
      await expect(instance.engine.sendEvent(run.id, { type, output: { goal: 'forged' } })).rejects.toMatchObject({
        reason: 'invalid',
        field: 'type',
        message: expect.stringContaining('reserved'),
      });
    }
    expect(await instance.engine.getRun(run.id)).toMatchObject({ state: 'intake', status: 'running', history: [] });
  });

  it('ignores events the current state does not handle', async () => {
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    const after = await instance.engine.sendEvent(run.id, { type: 'NUDGE' });
    expect(after).toMatchObject({ state: 'intake', status: 'running', history: [] });
  });

  it('returns the first run for a repeated idempotency key', async () => {
    const key = `key-${Date.now()}-${Math.random()}`;
    const first = await instance.engine.startRun({ definitionName: 'coding', input: { n: 1 }, idempotencyKey: key });
    const second = await instance.engine.startRun({ definitionName: 'coding', input: { n: 2 }, idempotencyKey: key });
    expect(second.id).toBe(first.id);
    expect(second.context['input']).toEqual({ n: 1 });
  });

  it('rejects unknown definitions and runs as NOT_FOUND', async () => {
    await expect(instance.engine.startRun({ definitionName: 'nope' })).rejects.toMatchObject({ reason: 'not_found', code: 'DEFINITION_NOT_FOUND' });
    await expect(instance.engine.getRun('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ reason: 'not_found' });
    await expect(instance.engine.sendEvent('00000000-0000-4000-8000-000000000000', { type: 'CANCEL' })).rejects.toMatchObject({ reason: 'not_found' });
  });
});

describe('definitions', () => {
  it('stores the default coding and explain definitions once, and versions changed definitions', async () => {
    const again = await instance.engine.ensureDefaultDefinitions();
    expect(again).toEqual([
      expect.objectContaining({ name: 'coding', version: 1, created: false }),
      expect.objectContaining({ name: 'explain', version: 1, created: false }),
    ]);

    const doc = {
      id: 'tiny',
      initial: 'work',
      states: { work: { meta: { activity: 'plan' }, on: { 'activity.done': 'done' } }, done: { type: 'final' } },
    };
    const v1 = await instance.engine.putDefinition('tiny', doc);
    const same = await instance.engine.putDefinition('tiny', JSON.parse(JSON.stringify(doc)));
    const v2 = await instance.engine.putDefinition('tiny', { ...doc, description: 'now documented' });
    expect([v1.version, v1.created, same.version, same.created, v2.version, v2.created]).toEqual([1, true, 1, false, 2, true]);
    expect((await instance.engine.getDefinition('tiny', 1)).definition).toEqual(doc);
    expect((await instance.engine.listDefinitions()).map((d) => [d.name, d.version])).toEqual([
      ['coding', 1],
      ['explain', 1],
      ['tiny', 2],
    ]);

    // A run keeps the version it started with.
    const run = await instance.engine.startRun({ definitionName: 'tiny', definitionVersion: 1 });
    expect(run.definitionVersion).toBe(1);
    await expect(instance.engine.putDefinition('tiny', { ...doc, initial: 'wrok' })).rejects.toMatchObject({
      reason: 'invalid',
      field: 'definition',
      message: expect.stringContaining('initial: unknown state "wrok"'),
    });
  });
});

describe('restarts', () => {
  it('a new engine on the same database re-publishes the activity request a crashed engine committed but never sent', async () => {
    // Engine A commits transitions but cannot publish activity requests (NATS "down" for work).
    const real = new NatsRunEventsPublisher(env.bus);
    const failingWork = {
      publishActivityRequest: async (_queue: WorkQueue, request: ActivityRequest) => {
        if (request.state === 'preflight') throw new OperationalError('BUS_PUBLISH_FAILED', 'simulated outage');
        await real.publishActivityRequest(_queue, request);
      },
      publishEvent: real.publishEvent.bind(real),
    };
    await instance.stop();
    const a = await startEngine(env, { publisher: failingWork });
    const run = await a.engine.startRun({ definitionName: 'coding', input: {} });
    const outcome = await a.engine.applyActivityResult(resultFor(await requestFor(run.id, 'intake'), { ok: true }));
    expect(outcome).toMatchObject({ applied: true, run: { state: 'preflight' } });
    await a.stop(); // the "crash": the retry queue is gone with the process
    expect(env.requests.all.some((r) => r.runId === run.id && r.state === 'preflight')).toBe(false);

    // Engine B resumes from the database and asks for the preflight again, same workId.
    instance = await startEngine(env);
    const preflight = await requestFor(run.id, 'preflight');
    expect(preflight.workId).toBe(`${run.id}:preflight:1`);
    await env.publishResult(resultFor(preflight, { ok: true }));
    const atPlan = await waitForRun(run.id, (r) => r.state === 'plan', 'plan');
    expect(atPlan.history.map((h) => h.seq)).toEqual([1, 2]);
  });

  it('results published while no engine runs are applied when one starts', async () => {
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    const intake = await requestFor(run.id, 'intake');
    await instance.stop();
    await env.publishResult(resultFor(intake, { ok: true, output: { goal: 'x' } }));
    expect((await env.store.getRun(run.id))?.state).toBe('intake');

    instance = await startEngine(env);
    const atPreflight = await waitForRun(run.id, (r) => r.state === 'preflight', 'preflight');
    expect(atPreflight.context['outputs']).toEqual({ intake: { goal: 'x' } });
    expect(atPreflight.history).toHaveLength(1);
    await requestFor(run.id, 'preflight');
  });
});

describe('the result consumer', () => {
  it('keeps redelivering a result for over 10 minutes before giving up on it, so a database failover does not fail successful activities', async () => {
    const info = await env.bus.jsm.consumers.info(env.bus.namespace.stream(Streams.results.name), env.bus.namespace.consumer(Consumers.engineActivityResults));
    // One more than ours: the engine dead-letters (and fails the run) on its own last delivery.
    expect(info.config.max_deliver).toBe(RESULT_MAX_DELIVER + 1);
    let waitedMs = 0;
    for (let delivery = 1; delivery < RESULT_MAX_DELIVER; delivery++) waitedMs += resultBackoffMs(delivery);
    expect(waitedMs).toBeGreaterThan(10 * 60_000);
    expect(resultBackoffMs(RESULT_MAX_DELIVER)).toBe(30_000);
  });
});
