import { UserError } from '@maestro/runtime';
import { codingDefinition, explainDefinition } from './default-definitions.js';
import { defaultRegistries } from './registries.js';
import { formatPath } from './definition-schema.js';
import { formatProblems, parseDefinition, validateDefinition, type DefinitionProblem } from './validate-definition.js';

function problemsOf(document: unknown): DefinitionProblem[] {
  const result = validateDefinition(document, defaultRegistries);
  if (result.ok) throw new Error('expected the definition to be rejected');
  return result.problems;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The coding definition with one change applied, for "this one mistake" tests. */
function codingWith(change: (d: any) => void): unknown {
  const d = clone(codingDefinition) as any;
  change(d);
  return d;
}

describe('validateDefinition', () => {
  it('accepts the shipped coding and explain definitions', () => {
    expect(validateDefinition(codingDefinition, defaultRegistries).ok).toBe(true);
    expect(validateDefinition(explainDefinition, defaultRegistries).ok).toBe(true);
  });

  it('names the path of an unknown target', () => {
    const problems = problemsOf(codingWith((d) => (d.states.plan.on['activity.done'].target = 'cod')));
    expect(problems).toEqual([
      { path: 'states.plan.on["activity.done"].target', message: expect.stringContaining('unknown state "cod"') },
    ]);
  });

  it('names the path of an unknown target in a list of transitions and in the shorthand', () => {
    const problems = problemsOf(
      codingWith((d) => {
        d.states.review.on['activity.done'][1].target = 'nowhere';
        d.states.intake.on.CANCEL = 'gone';
      }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['states.intake.on.CANCEL', 'states.review.on["activity.done"][1].target']);
  });

  it('rejects unknown guards, actions and activities with the known names', () => {
    const problems = problemsOf(
      codingWith((d) => {
        d.states.review.on['activity.done'][0].guard = 'looksGood';
        d.states.plan.on['activity.done'].actions = ['storeOutput', 'sendEmail'];
        d.states.code.meta.activity = 'deploy';
        d.states.intake.entry = 'beep';
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'states.review.on["activity.done"][0].guard', message: expect.stringMatching(/unknown guard "looksGood" \(known: approved, rejected\)/) },
        { path: 'states.plan.on["activity.done"].actions[1]', message: expect.stringContaining('unknown action "sendEmail"') },
        { path: 'states.code.meta.activity', message: expect.stringMatching(/unknown activity "deploy" \(known: answer, code, intake, plan, preflight, review\)/) },
        { path: 'states.intake.entry', message: expect.stringContaining('unknown action "beep"') },
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('requires at least one final state and a known initial state', () => {
    const problems = problemsOf({ id: 'loop', initial: 'b', states: { a: { on: { go: 'a' } } } });
    expect(problems).toEqual([
      { path: 'initial', message: expect.stringContaining('unknown state "b"') },
      { path: 'states', message: expect.stringContaining('at least one final state') },
    ]);
  });

  it('reports shape errors with their paths', () => {
    const problems = problemsOf({ id: 'x y', initial: 'a', states: { a: { type: 'parallel', on: { go: 42 } }, b: { type: 'final' } }, extra: 1 });
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['id', 'states.a.type', 'states.a.on.go', 'extra']));
    expect(problems.find((p) => p.path === 'states.a.type')?.message).toMatch(/parallel and history states are not supported/);
    expect(problems.find((p) => p.path === 'extra')?.message).toBe('unknown field');
  });

  it('rejects nested states and invoke with a reason', () => {
    const problems = problemsOf({
      id: 'nested',
      initial: 'a',
      states: { a: { initial: 'x', states: { x: {} }, invoke: { src: 'foo' } }, z: { type: 'final' } },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'states.a.states', message: expect.stringContaining('nested states are not supported') },
        { path: 'states.a.invoke', message: expect.stringContaining('meta.activity') },
      ]),
    );
  });

  it('rejects transitions out of final states and activities on them', () => {
    const problems = problemsOf(codingWith((d) => (d.states.done = { type: 'final', on: { X: 'plan' }, meta: { activity: 'plan' } })));
    expect(problems.map((p) => p.path)).toEqual(['states.done.on', 'states.done.meta.activity']);
  });

  it('accepts meta.timeoutMs on a state with an activity and rejects it anywhere else or out of range', () => {
    expect(validateDefinition(codingWith((d) => (d.states.plan.meta.timeoutMs = 1000)), defaultRegistries).ok).toBe(true);
    const problems = problemsOf(
      codingWith((d) => {
        d.states.intake.meta.timeoutMs = 0;
        d.states.plan.meta.timeoutMs = 1.5;
        d.states.done.meta = { timeoutMs: 1000 };
      }),
    );
    expect(problems.map((p) => p.path)).toEqual(['states.intake.meta.timeoutMs', 'states.plan.meta.timeoutMs']);
    expect(problemsOf(codingWith((d) => (d.states.done.meta = { timeoutMs: 1000 })))).toEqual([
      { path: 'states.done.meta.timeoutMs', message: 'only a state with meta.activity can have a timeout' },
    ]);
    expect(
      problemsOf({ id: 't', initial: 'a', states: { a: { meta: { timeoutMs: 5 }, on: { go: 'b' } }, b: { type: 'final' } } }).map((p) => p.path),
    ).toEqual(['states.a.meta.timeoutMs']);
  });

  it('rejects a loop of unguarded eventless transitions', () => {
    const problems = problemsOf({
      id: 'spin',
      initial: 'a',
      states: { a: { always: 'b' }, b: { always: [{ target: 'a' }] }, c: { type: 'final' } },
    });
    expect(problems).toEqual([{ path: 'states.a.always', message: expect.stringContaining('a → b → a') }]);
  });

  it('accepts a guarded eventless loop (the guard can stop it)', () => {
    const result = validateDefinition(
      { id: 'ok', initial: 'a', states: { a: { always: { target: 'b', guard: 'approved' } }, b: { always: 'a', on: { stop: 'c' } }, c: { type: 'final' } } },
      defaultRegistries,
    );
    expect(result.ok).toBe(true);
  });

  it('rejects reserved xstate.* event types', () => {
    const problems = problemsOf({ id: 'r', initial: 'a', states: { a: { on: { 'xstate.init': 'b' } }, b: { type: 'final' } } });
    expect(problems).toEqual([{ path: 'states.a.on["xstate.init"]', message: expect.stringMatching(/reserved/) }]);
  });

  it('parseDefinition throws an INVALID_DEFINITION user error naming the field and the path', () => {
    let caught: unknown;
    try {
      parseDefinition(codingWith((d) => (d.states.plan.on['activity.done'].target = 'cod')), defaultRegistries);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    const err = caught as UserError;
    expect(err.reason).toBe('invalid');
    expect(err.field).toBe('definition');
    // The path, under the request field, leads the message so clients can point at it.
    expect(err.message).toMatch(/^definition\.states\.plan\.on\["activity\.done"\]\.target: unknown state "cod"/);
  });

  it('formatProblems prefixes each path with the field, and leaves whole-document problems at the field', () => {
    const problems = [
      { path: 'initial', message: 'unknown state "x"' },
      { path: '["bad key"]', message: 'unknown field' },
      { path: '', message: 'must be an object' },
    ];
    expect(formatProblems(problems, 'definition')).toBe('definition.initial: unknown state "x"; definition["bad key"]: unknown field; definition: must be an object');
    expect(formatProblems(problems)).toBe('initial: unknown state "x"; ["bad key"]: unknown field; must be an object');
  });
});

describe('formatPath', () => {
  it('writes identifiers with dots and everything else in brackets', () => {
    expect(formatPath(['states', 'plan', 'on', 'activity.done', 0, 'target'])).toBe('states.plan.on["activity.done"][0].target');
    expect(formatPath(['states', 'my-state'])).toBe('states["my-state"]');
    expect(formatPath([])).toBe('');
  });
});
