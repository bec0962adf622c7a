import { parseDefinition } from './validate-definition.js';
import { codingDefinition } from './default-definitions.js';
import { defaultRegistries, type MachineEvent } from './registries.js';
import { activityOf, applyRunEvent, startRunMachine, type RunPosition, type RunnableDefinition } from './run-machine.js';

const coding: RunnableDefinition = { definition: parseDefinition(codingDefinition, defaultRegistries), registries: defaultRegistries };

/** What the database gives back: the position after a JSON round trip (jsonb). */
function persisted(position: RunPosition): RunPosition {
  return JSON.parse(JSON.stringify(position)) as RunPosition;
}

function step(runnable: RunnableDefinition, position: RunPosition, event: MachineEvent) {
  return applyRunEvent(runnable, persisted(position), event);
}

describe('the coding definition', () => {
  it('starts in intake, attempt 1, with the input in the context', () => {
    const started = startRunMachine(coding, { taskId: 't1' });
    expect(started).toMatchObject({ state: 'intake', status: 'running', attempt: 1, transitioned: true, entered: ['intake'] });
    expect(started.context).toEqual({ input: { taskId: 't1' }, outputs: {} });
    expect(activityOf(coding.definition, started.state)).toBe('intake');
  });

  it('walks intake → preflight → plan → code → review → done, storing each output under its state', () => {
    let position: RunPosition = startRunMachine(coding, { taskId: 't1' });
    const seen: string[] = [position.state];
    const outputs: Record<string, Record<string, unknown>> = {
      intake: { goal: 'add a flag' },
      preflight: { baselineFailures: ['legacy test'] },
      plan: { subtasks: 2 },
      code: { commits: ['abc'] },
      review: { approved: true, summary: 'good' },
    };
    for (const state of ['intake', 'preflight', 'plan', 'code', 'review']) {
      const next = step(coding, position, { type: 'activity.done', output: outputs[state] });
      expect(next.fromState).toBe(state);
      expect(next.transitioned).toBe(true);
      expect(next.attempt).toBe(1);
      seen.push(next.state);
      position = next;
    }
    expect(seen).toEqual(['intake', 'preflight', 'plan', 'code', 'review', 'done']);
    expect(position.status).toBe('done');
    expect(position.context.outputs).toEqual(outputs);
  });

  it('fails the run when an activity fails, keeping the error', () => {
    const started = startRunMachine(coding, {});
    const checked = step(coding, step(coding, started, { type: 'activity.done', output: {} }), { type: 'activity.done', output: {} });
    const failed = step(coding, checked, { type: 'activity.failed', error: { code: 'MODEL_DOWN', message: 'no model' } });
    expect(failed).toMatchObject({ fromState: 'plan', state: 'failed', status: 'failed', transitioned: true });
    expect(failed.context.error).toEqual({ code: 'MODEL_DOWN', message: 'no model', state: 'plan' });
  });

  it('fails the run when the review does not approve', () => {
    let position: RunPosition = startRunMachine(coding, {});
    for (let i = 0; i < 4; i++) position = step(coding, position, { type: 'activity.done', output: {} });
    expect(position.state).toBe('review');
    const rejected = step(coding, position, { type: 'activity.done', output: { approved: false, reason: 'tests are red' } });
    expect(rejected).toMatchObject({ state: 'failed', status: 'failed' });
    expect(rejected.context.error).toEqual({ code: 'REVIEW_REJECTED', message: 'tests are red', state: 'review' });
    expect(rejected.context.outputs['review']).toEqual({ approved: false, reason: 'tests are red' });
  });

  it('cancels from any working state and then ignores everything', () => {
    for (const steps of [0, 1, 2, 3, 4]) {
      let position: RunPosition = startRunMachine(coding, {});
      for (let i = 0; i < steps; i++) position = step(coding, position, { type: 'activity.done', output: {} });
      const cancelled = step(coding, position, { type: 'CANCEL' });
      expect(cancelled).toMatchObject({ state: 'cancelled', status: 'cancelled', transitioned: true });
      const after = step(coding, cancelled, { type: 'activity.done', output: { approved: true } });
      expect(after).toMatchObject({ state: 'cancelled', status: 'cancelled', transitioned: false, changed: false });
    }
  });

  it('stops in failed when preflight fails, before plan requests any model', () => {
    const started = startRunMachine(coding, {});
    const inPreflight = step(coding, started, { type: 'activity.done', output: {} });
    expect(inPreflight.state).toBe('preflight');
    expect(activityOf(coding.definition, inPreflight.state)).toBe('preflight');
    const failed = step(coding, inPreflight, { type: 'activity.failed', error: { code: 'PREFLIGHT_FAILED', message: 'port 3000 is in use' } });
    expect(failed).toMatchObject({ fromState: 'preflight', state: 'failed', status: 'failed' });
    expect(failed.context.error).toEqual({ code: 'PREFLIGHT_FAILED', message: 'port 3000 is in use', state: 'preflight' });
  });

  it('ignores events the current state does not handle', () => {
    const started = startRunMachine(coding, {});
    const next = step(coding, started, { type: 'NUDGE' });
    expect(next).toMatchObject({ state: 'intake', attempt: 1, transitioned: false, changed: false });
  });
});

describe('attempts', () => {
  const retrying: RunnableDefinition = {
    definition: parseDefinition(
      {
        id: 'retrying',
        initial: 'plan',
        states: {
          plan: { meta: { activity: 'plan' }, on: { 'activity.done': { target: 'code', actions: 'storeOutput' } } },
          code: {
            meta: { activity: 'code' },
            on: {
              'activity.failed': { target: 'code', reenter: true, actions: 'storeError' },
              'activity.done': [{ target: 'done', guard: 'approved' }, { target: 'plan' }],
              note: { actions: 'storeOutput' },
            },
          },
          done: { type: 'final' },
        },
      },
      defaultRegistries,
    ),
    registries: defaultRegistries,
  };

  it('re-entering a state (self-transition with reenter) is the next attempt', () => {
    const planned = step(retrying, startRunMachine(retrying, {}), { type: 'activity.done', output: {} });
    expect(planned).toMatchObject({ state: 'code', attempt: 1 });
    const retry = step(retrying, planned, { type: 'activity.failed', error: { code: 'E', message: 'm' } });
    expect(retry).toMatchObject({ fromState: 'code', state: 'code', attempt: 2, transitioned: true });
    const retry2 = step(retrying, retry, { type: 'activity.failed' });
    expect(retry2.attempt).toBe(3);
  });

  it('coming back to a state later continues its count', () => {
    let position = step(retrying, startRunMachine(retrying, {}), { type: 'activity.done', output: {} });
    position = step(retrying, position, { type: 'activity.done', output: { approved: false } });
    expect(position).toMatchObject({ state: 'plan', attempt: 2 });
    position = step(retrying, position, { type: 'activity.done', output: {} });
    expect(position).toMatchObject({ state: 'code', attempt: 2 });
  });

  it('a targetless transition changes the context but is no transition and keeps the attempt', () => {
    const planned = step(retrying, startRunMachine(retrying, {}), { type: 'activity.done', output: {} });
    const noted = step(retrying, planned, { type: 'note', output: { remark: 'hi' } });
    expect(noted).toMatchObject({ state: 'code', attempt: 1, transitioned: false, changed: true });
    expect(noted.context.outputs['code']).toEqual({ remark: 'hi' });
  });
});

describe('eventless transitions', () => {
  it('passes through states whose always-transition applies, recording each entry', () => {
    const runnable: RunnableDefinition = {
      definition: parseDefinition(
        {
          id: 'chain',
          initial: 'a',
          states: {
            a: { on: { go: 'b' } },
            b: { always: [{ target: 'c', guard: 'approved' }, { target: 'd' }] },
            c: { type: 'final' },
            d: { type: 'final', meta: { status: 'failed' } },
          },
        },
        defaultRegistries,
      ),
      registries: defaultRegistries,
    };
    const start = startRunMachine(runnable, {});
    const approved = step(runnable, start, { type: 'go', output: { approved: true } });
    expect(approved).toMatchObject({ fromState: 'a', state: 'c', status: 'done', entered: ['b', 'c'] });
    const other = step(runnable, start, { type: 'go' });
    expect(other).toMatchObject({ state: 'd', status: 'failed', entered: ['b', 'd'] });
  });
});

describe('event descriptors', () => {
  it('supports XState wildcards: an exact match wins, then "activity.*", then "*"', () => {
    const runnable: RunnableDefinition = {
      definition: parseDefinition(
        {
          id: 'wild',
          initial: 'a',
          states: {
            a: { on: { 'activity.done': 'exact', 'activity.*': 'partial', '*': 'any' } },
            exact: { type: 'final' },
            partial: { type: 'final' },
            any: { type: 'final' },
          },
        },
        defaultRegistries,
      ),
      registries: defaultRegistries,
    };
    const start = startRunMachine(runnable, {});
    expect(step(runnable, start, { type: 'activity.done' }).state).toBe('exact');
    expect(step(runnable, start, { type: 'activity.failed' }).state).toBe('partial');
    expect(step(runnable, start, { type: 'CANCEL' }).state).toBe('any');
  });
});
