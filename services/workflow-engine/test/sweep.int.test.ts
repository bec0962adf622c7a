/**
 * The timeout sweep against the real PostgreSQL and NATS, when some due runs cannot be handled:
 * they must not stay first in line and keep every other run from timing out.
 */
import { ManualClock } from '@maestro/runtime';
import { codingDefinition, defaultRegistries, type Registries } from '../src/domain/index.js';
import { ACTIVITY_TIMEOUT } from '../src/engine.js';
import { createEnvironment, startEngine, type EngineInstance, type Environment } from './harness.js';

/** The default registries plus an action that always throws, so the timeout step itself fails. */
const registries: Registries = {
  ...defaultRegistries,
  actions: {
    ...defaultRegistries.actions,
    explode: {
      description: 'Throws (test only).',
      implementation: () => {
        throw new Error('boom: handling the failure failed');
      },
    },
  },
};

/** An activity with a 1-minute timeout whose failure handling always throws. */
const brittle = {
  id: 'brittle',
  initial: 'work',
  states: {
    work: {
      meta: { activity: 'plan', timeoutMs: 60_000 },
      on: { 'activity.failed': { target: 'failed', actions: ['explode'] } },
    },
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
    definitions: { coding: codingDefinition, brittle },
    subscribe: false,
    sweep: false,
    sweepBatchSize: 1,
    sweepRetryDelayMs: 5 * MINUTE,
  });
});

afterAll(async () => {
  await instance?.stop();
  await env?.close();
});

describe('a due run the sweep cannot handle', () => {
  it('is pushed back, so the runs due after it still time out', async () => {
    // Due after 1 minute, and listed before the coding run (due after 2) by every sweep.
    const broken = await instance.engine.startRun({ definitionName: 'brittle', input: {} });
    const run = await instance.engine.startRun({ definitionName: 'coding', input: {} });
    clock.advance(3 * MINUTE);
    const sweptAt = clock.now();

    // One run per batch: the first sweep meets only the broken run and moves nothing.
    expect(await instance.engine.sweepTimeouts()).toBe(0);
    expect(await env.store.getRun(broken.id)).toMatchObject({ status: 'running', timeoutAt: new Date(sweptAt + 5 * MINUTE) });

    // The next sweep gets to the coding run.
    expect(await instance.engine.sweepTimeouts()).toBe(1);
    const failed = await instance.engine.getRun(run.id);
    expect(failed).toMatchObject({ status: 'failed', state: 'failed' });
    expect(failed.context['error']).toMatchObject({ code: ACTIVITY_TIMEOUT, state: 'intake' });

    // The broken run is tried again once its postponed deadline passes.
    clock.advance(5 * MINUTE);
    expect(await instance.engine.sweepTimeouts()).toBe(0);
    expect((await env.store.getRun(broken.id))?.timeoutAt).toEqual(new Date(clock.now() + 5 * MINUTE));
  });
});
