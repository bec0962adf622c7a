/**
 * Runs that would otherwise wait forever, against the real PostgreSQL and NATS: an activity
 * result the engine cannot apply (dead-lettered after its deliveries), an activity that never
 * reports (meta.timeoutMs and the timeout sweep, on an injected clock, with replicas sweeping
 * at once), and a run.finished that never went out (re-published by the next engine's resume).
 */
import { ManualClock, OperationalError } from '@maestro/runtime';
import { ActivityRequestSchema, Subjects, type ActivityRequest } from '@maestro/contracts';
import { codingDefinition, defaultRegistries, type Registries } from '../src/domain/index.js';
import { ACTIVITY_REQUEST_UNPUBLISHABLE, ACTIVITY_TIMEOUT, type RunView, type WorkflowEngine } from '../src/engine.js';
import { RESULT_UNPROCESSABLE } from '../src/transport/nats/activity-result.subscriber.js';
import { NatsRunEventsPublisher } from '../src/transport/nats/run-events.publisher.js';
import { createEnvironment, resultFor, startEngine, type EngineInstance, type Environment } from './harness.js';

/** The default registries plus an action that always throws: a definition bug the engine cannot get past. */
const registries: Registries = {
  ...defaultRegistries,
  actions: {
    ...defaultRegistries.actions,
    explode: {
      description: 'Throws (test only).',
      implementation: () => {
        throw new Error('boom: storing the output failed');
      },
    },
  },
};

/** One activity whose success cannot be applied; failures still can. */
const fragile = {
  id: 'fragile',
  initial: 'work',
  states: {
    work: {
      meta: { activity: 'plan' },
      on: {
        'activity.done': { target: 'done', actions: ['explode'] },
        'activity.failed': { target: 'failed', actions: ['storeError'] },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
  },
};

const MINUTE = 60_000;

let env: Environment;
let clock: ManualClock;
let instance: EngineInstance;

beforeAll(async () => {
  env = await createEnvironment();
  clock = new ManualClock(Date.now());
  instance = await startEngine(env, {
    clock,
    registries,
    definitions: { coding: codingDefinition, fragile },
    sweepMs: 1000,
    results: { maxDeliver: 2, backoffMs: () => 20 },
  });
});

afterAll(async () => {
  await instance?.stop();
  await env?.close();
});

function requestFor(runId: string, state: string, attempt = 1): Promise<ActivityRequest> {
  return env.requests.waitFor((r) => r.runId === runId && r.state === state && r.attempt === attempt, `activity request ${runId} ${state}#${attempt}`);
}

/** Follows the run until `until` holds; `tick` (if given) runs between changes, e.g. to move the clock. */
async function waitForRun(engine: WorkflowEngine, runId: string, until: (run: RunView) => boolean, what: string, tick?: () => void): Promise<RunView> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  const ticker = tick ? setInterval(tick, 50) : undefined;
  try {
    let last: RunView | undefined;
    for await (const run of engine.watchRun(runId, abort.signal)) {
      last = run;
      if (until(run)) return run;
    }
    throw new Error(`run ${runId} never reached ${what}; last seen: ${last?.state} (${last?.status})`);
  } finally {
    clearTimeout(timer);
    if (ticker) clearInterval(ticker);
    abort.abort();
  }
}

describe('an activity result that cannot be applied', () => {
  it('fails the run with RESULT_UNPROCESSABLE once the result is dead-lettered, instead of leaving it waiting', async () => {
    const run = await instance.engine.startRun({ definitionName: 'fragile', input: {} });
    const request = await requestFor(run.id, 'work');
    await env.publishResult(resultFor(request, { ok: true, output: { plan: 'x' } }));

    const failed = await waitForRun(instance.engine, run.id, (r) => r.status !== 'running', 'failed');
    expect(failed).toMatchObject({ status: 'failed', state: 'failed' });
    expect(failed.context['error']).toEqual({
      code: RESULT_UNPROCESSABLE,
      state: 'work',
      // The bus names only the code of an unexpected error (its text is internal).
      message: expect.stringMatching(/could not be applied: failed 2 times; last error RUN_STEP_FAILED/),
    });
    expect(failed.history.map((h) => [h.fromState, h.toState, h.eventType, h.event['attempt']])).toEqual([['work', 'failed', 'activity.failed', 1]]);
    const finished = await env.runEvents.waitFor((e) => e.runId === run.id && e.subject === Subjects.runFinished, 'run.finished');
    expect(finished.error).toMatchObject({ code: RESULT_UNPROCESSABLE });
  });
});

describe('activity timeouts (meta.timeoutMs)', () => {
  it('fails the attempt with ACTIVITY_TIMEOUT once the periodic sweep finds it past its timeout, not before', async () => {
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    const intake = await requestFor(run.id, 'intake');

    // intake allows 2 minutes.
    clock.advance(2 * MINUTE - 1000);
    await instance.engine.sweepTimeouts();
    expect(await instance.engine.getRun(run.id)).toMatchObject({ state: 'intake', status: 'running', history: [] });

    // Move the clock on until the engine's own sweep (every 1000 ms of this clock) fires.
    const failed = await waitForRun(instance.engine, run.id, (r) => r.status !== 'running', 'failed', () => clock.advance(1000));
    expect(failed).toMatchObject({ status: 'failed', state: 'failed' });
    expect(failed.context['error']).toEqual({ code: ACTIVITY_TIMEOUT, state: 'intake', message: expect.stringContaining('120000 ms') });
    expect(failed.history).toEqual([
      expect.objectContaining({
        seq: 1,
        fromState: 'intake',
        toState: 'failed',
        eventType: 'activity.failed',
        event: expect.objectContaining({ workId: intake.workId, attempt: 1, error: expect.objectContaining({ code: ACTIVITY_TIMEOUT }) }),
      }),
    ]);
    const finished = await env.runEvents.waitFor((e) => e.runId === run.id && e.subject === Subjects.runFinished, 'run.finished');
    expect(finished).toMatchObject({ status: 'failed', seq: 1, error: { code: ACTIVITY_TIMEOUT } });

    // The real result, arriving late, is for an attempt that is over.
    expect(await instance.engine.applyActivityResult(resultFor(intake, { ok: true }))).toMatchObject({ applied: false, reason: 'run is failed' });
  });

  it('times each attempt from the state it entered: a run that moved on gets the new state\'s timeout', async () => {
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    clock.advance(1 * MINUTE);
    await env.publishResult(resultFor(await requestFor(run.id, 'intake'), { ok: true }));
    await requestFor(run.id, 'preflight');

    // Past intake's 2 minutes from the start, but preflight allows 15 minutes from entering it.
    clock.advance(2 * MINUTE);
    await instance.engine.sweepTimeouts();
    expect(await instance.engine.getRun(run.id)).toMatchObject({ state: 'preflight', status: 'running', history: [expect.objectContaining({ toState: 'preflight' })] });

    clock.advance(13 * MINUTE + 1000);
    await instance.engine.sweepTimeouts();
    // The engine's own sweep (woken by the clock) may be the one holding the run: wait for the commit.
    const failed = await waitForRun(instance.engine, run.id, (r) => r.status !== 'running', 'failed');
    expect(failed).toMatchObject({ state: 'failed', status: 'failed' });
    expect(failed.context['error']).toMatchObject({ code: ACTIVITY_TIMEOUT, state: 'preflight' });
  });

  it('fires once when several replicas sweep at the same moment', async () => {
    const replicas = await Promise.all(
      [1, 2].map(() => startEngine(env, { clock, registries, definitions: { coding: codingDefinition, fragile }, subscribe: false, sweep: false })),
    );
    try {
      const runs = await Promise.all([1, 2, 3].map(() => instance.engine.startRun({ definitionName: 'coding', input: {} })));
      clock.advance(2 * MINUTE + 1000);
      const engines = [instance.engine, ...replicas.map((r) => r.engine)];
      await Promise.all(engines.flatMap((engine) => [engine.sweepTimeouts(), engine.sweepTimeouts()]));
      for (const run of runs) {
        const after = await waitForRun(instance.engine, run.id, (r) => r.status !== 'running', 'failed');
        expect(after).toMatchObject({ status: 'failed', state: 'failed' });
        expect(after.history.map((h) => h.eventType)).toEqual(['activity.failed']);
      }
    } finally {
      for (const replica of replicas) await replica.stop();
    }
  });

  it('rejects a timeout on a state without an activity', async () => {
    await expect(
      instance.engine.putDefinition('no-activity-timeout', {
        id: 'x',
        initial: 'wait',
        states: { wait: { meta: { timeoutMs: 1000 }, on: { GO: 'done' } }, done: { type: 'final' } },
      }),
    ).rejects.toMatchObject({ reason: 'invalid', message: expect.stringContaining('states.wait.meta.timeoutMs: only a state with meta.activity can have a timeout') });
  });
});

describe('a run.finished that never went out', () => {
  it('is published by the next engine\'s resume, with the final seq, and only until it is out', async () => {
    // Engine A commits the cancel but cannot publish run.finished (say NATS refused it), then dies.
    const real = new NatsRunEventsPublisher(env.bus);
    const noFinished = {
      publishActivityRequest: real.publishActivityRequest.bind(real),
      publishEvent: async (subject: string, payload: Parameters<typeof real.publishEvent>[1], msgId: string) => {
        if (subject === Subjects.runFinished) throw new OperationalError('BUS_PUBLISH_FAILED', 'simulated outage');
        await real.publishEvent(subject, payload, msgId);
      },
    };
    const a = await startEngine(env, { clock, registries, definitions: { coding: codingDefinition, fragile }, publisher: noFinished, subscribe: false, sweep: false });
    const run = await a.engine.startRun({ definitionName: 'coding', input: {} });
    await requestFor(run.id, 'intake');
    expect(await a.engine.sendEvent(run.id, { type: 'CANCEL' })).toMatchObject({ status: 'cancelled' });
    await a.stop();
    expect(await env.store.getRun(run.id)).toMatchObject({ status: 'cancelled', finishedPublished: false });
    expect(env.runEvents.all.some((e) => e.runId === run.id && e.subject === Subjects.runFinished)).toBe(false);

    // Engine B's start-up resume publishes it.
    const b = await startEngine(env, { clock, registries, definitions: { coding: codingDefinition, fragile }, subscribe: false, sweep: false });
    try {
      const finished = await env.runEvents.waitFor((e) => e.runId === run.id && e.subject === Subjects.runFinished, 'run.finished from resume');
      expect(finished).toMatchObject({ status: 'cancelled', state: 'cancelled', seq: 1 });
      expect(await env.store.getRun(run.id)).toMatchObject({ finishedPublished: true });
      // Recorded as out: another resume leaves it alone.
      expect(await b.engine.resume()).toMatchObject({ finishedEvents: 0 });
    } finally {
      await b.stop();
    }
  });
});

describe('an activity request that can never be published', () => {
  it('is dropped without blocking later effects, and its run fails with ACTIVITY_REQUEST_UNPUBLISHABLE', async () => {
    // The publisher rejects one run's request the way contract drift would: a ZodError, every time.
    const real = new NatsRunEventsPublisher(env.bus);
    let rejected = 0;
    const publisher = {
      publishActivityRequest: async (queue: Parameters<typeof real.publishActivityRequest>[0], request: ActivityRequest) => {
        if ((request.context['input'] as Record<string, unknown> | undefined)?.['poison'] === true) {
          rejected++;
          ActivityRequestSchema.parse({ ...request, attempt: 'not a number' });
        }
        await real.publishActivityRequest(queue, request);
      },
      publishEvent: real.publishEvent.bind(real),
    };
    const c = await startEngine(env, { clock, registries, definitions: { coding: codingDefinition, fragile }, publisher, subscribe: false, sweep: false });
    try {
      const bad = await c.engine.startRun({ definitionName: 'fragile', input: { poison: true } });
      // The effects behind it still go out on this replica.
      const good = await c.engine.startRun({ definitionName: 'fragile', input: {} });
      await requestFor(good.id, 'work');
      await env.runEvents.waitFor((e) => e.runId === good.id && e.subject === Subjects.runStarted, 'run.started of the later run');

      const failed = await waitForRun(c.engine, bad.id, (r) => r.status !== 'running', 'failed');
      expect(failed).toMatchObject({ status: 'failed', state: 'failed' });
      expect(failed.context['error']).toMatchObject({ code: ACTIVITY_REQUEST_UNPUBLISHABLE, message: expect.stringContaining('ZodError') });
      const finished = await env.runEvents.waitFor((e) => e.runId === bad.id && e.subject === Subjects.runFinished, 'run.finished of the failed run');
      expect(finished.error).toMatchObject({ code: ACTIVITY_REQUEST_UNPUBLISHABLE });
      // Tried once, not retried forever; nothing was published for it.
      expect(env.requests.all.some((r) => r.runId === bad.id)).toBe(false);
      expect(rejected).toBe(1);
    } finally {
      await c.stop();
    }
  });
});
