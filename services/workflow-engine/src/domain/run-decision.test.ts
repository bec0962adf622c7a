import type { ActivityResult } from '@maestro/contracts';
import { UserError } from '@maestro/runtime';
import { codingDefinition } from './default-definitions.js';
import { defaultRegistries } from './registries.js';
import { startRunMachine, type RunnableDefinition } from './run-machine.js';
import { parseDefinition } from './validate-definition.js';
import {
  cancelEvent,
  checkSendableEventType,
  deadlineOf,
  decideActivityResult,
  decideEvent,
  decideTimeout,
  toActivityEvent,
  workIdOf,
  type DecidableRun,
} from './run-decision.js';

const coding: RunnableDefinition = { definition: parseDefinition(codingDefinition, defaultRegistries), registries: defaultRegistries };
const NOW = Date.UTC(2030, 0, 1);
const RUN_ID = '00000000-0000-4000-8000-000000000001';

function started(): DecidableRun {
  const { snapshot, state, status, attempt, visits, context } = startRunMachine(coding, { taskId: 't1' });
  return JSON.parse(JSON.stringify({ id: RUN_ID, snapshot, state, status, attempt, visits, context })) as DecidableRun;
}

function resultFor(run: DecidableRun, overrides: Partial<ActivityResult> = {}): ActivityResult {
  return {
    workId: workIdOf(run.id, run.state, run.attempt),
    runId: run.id,
    state: run.state,
    activity: run.state,
    attempt: run.attempt,
    ok: true,
    output: { goal: 'g' },
    finishedAt: new Date(NOW).toISOString(),
    ...overrides,
  };
}

describe('decideEvent', () => {
  it('turns a handled event into an update with a history row and the next state\'s deadline', () => {
    const decision = decideEvent(started(), coding, { type: 'activity.done', output: { goal: 'g' } }, NOW);
    expect(decision).toMatchObject({
      kind: 'update',
      position: { state: 'preflight', status: 'running', attempt: 1 },
      transition: { fromState: 'intake', toState: 'preflight', eventType: 'activity.done', event: { type: 'activity.done', output: { goal: 'g' } } },
      // preflight's meta.timeoutMs is 15 minutes.
      timeoutAt: new Date(NOW + 15 * 60_000),
    });
  });

  it('ignores an event the state does not handle, and every event once the run has ended', () => {
    expect(decideEvent(started(), coding, { type: 'NOPE' }, NOW)).toEqual({ kind: 'ignore', reason: 'state "intake" does not handle NOPE' });
    const cancelled = decideEvent(started(), coding, { type: 'CANCEL' }, NOW);
    if (cancelled.kind !== 'update') throw new Error('expected an update');
    expect(cancelled).toMatchObject({ position: { status: 'cancelled' }, timeoutAt: null });
    const ended = { ...started(), ...cancelled.position };
    expect(decideEvent(ended, coding, { type: 'CANCEL' }, NOW)).toEqual({ kind: 'ignore', reason: 'run is cancelled' });
  });
});

describe('decideActivityResult', () => {
  it('applies the result of the current attempt', () => {
    const run = started();
    expect(decideActivityResult(run, coding, resultFor(run), NOW)).toMatchObject({ kind: 'update', position: { state: 'preflight' } });
  });

  it('ignores results for another state, another attempt or another activity', () => {
    const run = started();
    expect(decideActivityResult(run, coding, resultFor(run, { state: 'plan' }), NOW)).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('stale') });
    expect(decideActivityResult(run, coding, resultFor(run, { attempt: 2 }), NOW)).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('stale') });
    expect(decideActivityResult(run, coding, resultFor(run, { activity: 'plan' }), NOW)).toMatchObject({ kind: 'ignore', reason: 'state intake requests intake, not plan' });
  });

  it('turns a failure without an error into ACTIVITY_FAILED', () => {
    const run = started();
    expect(toActivityEvent(resultFor(run, { ok: false, output: undefined }))).toMatchObject({ type: 'activity.failed', error: { code: 'ACTIVITY_FAILED' } });
  });
});

describe('decideTimeout', () => {
  it('fails the current attempt with ACTIVITY_TIMEOUT', () => {
    const decision = decideTimeout(started(), coding, NOW);
    expect(decision).toMatchObject({
      kind: 'update',
      position: { state: 'failed', status: 'failed', context: { error: { code: 'ACTIVITY_TIMEOUT', state: 'intake' } } },
      transition: { eventType: 'activity.failed', event: { workId: `${RUN_ID}:intake:1`, attempt: 1, error: { code: 'ACTIVITY_TIMEOUT' } } },
      timeoutAt: null,
    });
  });

  it('clears the deadline of a state without a timeout or one that ignores activity.failed', () => {
    const patient = parseDefinition(
      { id: 'p', initial: 'wait', states: { wait: { meta: { activity: 'plan', timeoutMs: 1000 }, on: { CANCEL: 'done' } }, idle: { on: { GO: 'done' } }, done: { type: 'final' } } },
      defaultRegistries,
    );
    const runnable = { definition: patient, registries: defaultRegistries };
    const run = { ...JSON.parse(JSON.stringify(startRunMachine(runnable, {}))), id: RUN_ID } as DecidableRun;
    expect(decideTimeout(run, runnable, NOW)).toMatchObject({ kind: 'ignore', clearTimeout: true });
    expect(decideTimeout({ ...run, state: 'idle' }, runnable, NOW)).toEqual({ kind: 'ignore', reason: 'state idle has no activity timeout', clearTimeout: true });
  });
});

describe('events callers may send', () => {
  it('rejects xstate.* and activity.* types naming the type field', () => {
    for (const type of ['xstate.init', 'activity.done', 'activity.failed']) {
      let caught: unknown;
      try {
        checkSendableEventType(type);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UserError);
      expect((caught as UserError).field).toBe('type');
    }
    expect(() => checkSendableEventType('CANCEL')).not.toThrow();
  });

  it('builds CANCEL with the reason only when one is given', () => {
    expect(cancelEvent('')).toEqual({ type: 'CANCEL' });
    expect(cancelEvent('wrong repo')).toEqual({ type: 'CANCEL', reason: 'wrong repo' });
  });

  it('has no deadline for a finished status', () => {
    expect(deadlineOf(coding, 'intake', 'done', NOW)).toBeNull();
    expect(deadlineOf(coding, 'intake', 'running', NOW)).toEqual(new Date(NOW + 120_000));
  });
});
