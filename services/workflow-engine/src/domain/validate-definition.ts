/**
 * Validation of a definition before it is saved: the shape (zod), then the references (every
 * target is a state, every guard, action and activity is in its registry), then the rules of
 * the engine (at least one final state, final states do not move, eventless transitions cannot
 * loop forever), and finally whether XState itself accepts the machine. Every problem names
 * the path at fault, e.g. `states.plan.on["activity.done"].target: unknown state "cod"`.
 */
import { createActor } from 'xstate';
import { UserError } from '@maestro/runtime';
import { createRunMachine, actionNames, normalizeTransitions, type NormalizedTransition } from './compile-definition.js';
import { DefinitionDocumentSchema, formatPath, type DefinitionDocument, type StateNode } from './definition-schema.js';
import type { Registries } from './registries.js';

/** One thing wrong with a definition, at a path into the document. */
export interface DefinitionProblem {
  /** `states.plan.on["activity.done"].target`; empty for the document as a whole. */
  path: string;
  message: string;
}

/** The outcome of {@link validateDefinition}. */
export type DefinitionValidation =
  | { ok: true; definition: DefinitionDocument }
  | { ok: false; problems: DefinitionProblem[] };

function known(names: Iterable<string>): string {
  const list = [...names].sort();
  return list.length === 0 ? 'none registered' : `known: ${list.join(', ')}`;
}

/** The structural keys XState has and we do not support, with the reason why. */
const unsupportedStateKeys: Record<string, string> = {
  states: 'nested states are not supported: definitions are flat machines',
  initial: 'nested states are not supported: definitions are flat machines',
  invoke: 'invoke is not supported: name an activity in meta.activity instead',
  after: 'delayed transitions are not supported',
  history: 'history states are not supported',
};

function checkReferences(definition: DefinitionDocument, registries: Registries): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const stateNames = new Set(Object.keys(definition.states));
  const add = (path: PropertyKey[], message: string) => problems.push({ path: formatPath(path), message });

  const checkActions = (list: string | string[] | undefined, path: PropertyKey[]) => {
    if (list === undefined) return;
    actionNames(list).forEach((name, i) => {
      if (!(name in registries.actions)) {
        add(typeof list === 'string' ? path : [...path, i], `unknown action "${name}" (${known(Object.keys(registries.actions))})`);
      }
    });
  };
  const checkTransition = ({ transition, path, shorthand }: NormalizedTransition) => {
    if (transition.target !== undefined && !stateNames.has(transition.target)) {
      add(shorthand ? path : [...path, 'target'], `unknown state "${transition.target}" (${known(stateNames)})`);
    }
    if (transition.guard !== undefined && !(transition.guard in registries.guards)) {
      add([...path, 'guard'], `unknown guard "${transition.guard}" (${known(Object.keys(registries.guards))})`);
    }
    checkActions(transition.actions, [...path, 'actions']);
  };

  if (!stateNames.has(definition.initial)) add(['initial'], `unknown state "${definition.initial}" (${known(stateNames)})`);

  let finals = 0;
  for (const [name, node] of Object.entries(definition.states)) {
    const base = ['states', name];
    const isFinal = node.type === 'final';
    if (isFinal) {
      finals++;
      if (node.on !== undefined) add([...base, 'on'], 'a final state cannot have transitions');
      if (node.always !== undefined) add([...base, 'always'], 'a final state cannot have transitions');
      if (node.meta?.activity !== undefined) add([...base, 'meta', 'activity'], 'a final state cannot request an activity');
    } else if (node.meta?.status !== undefined) {
      add([...base, 'meta', 'status'], 'only final states set a run status');
    }
    // A timeout bounds an activity's attempt; without an activity nothing would be failed.
    if (node.meta?.timeoutMs !== undefined && (isFinal || node.meta.activity === undefined)) {
      add([...base, 'meta', 'timeoutMs'], 'only a state with meta.activity can have a timeout');
    }
    const activity = node.meta?.activity;
    if (activity !== undefined && !(activity in registries.activities)) {
      add([...base, 'meta', 'activity'], `unknown activity "${activity}" (${known(Object.keys(registries.activities))})`);
    }
    checkActions(node.entry, [...base, 'entry']);
    checkActions(node.exit, [...base, 'exit']);
    for (const [event, spec] of Object.entries(node.on ?? {})) {
      normalizeTransitions(spec, [...base, 'on', event]).forEach(checkTransition);
    }
    normalizeTransitions(node.always, [...base, 'always']).forEach(checkTransition);
  }
  if (finals === 0) add(['states'], 'needs at least one final state (type: "final")');
  return problems;
}

/**
 * Eventless transitions without a guard are taken unconditionally; a cycle of them would spin
 * XState forever on entry, so it is rejected here instead of hanging a run later.
 */
function checkEventlessLoops(definition: DefinitionDocument): DefinitionProblem[] {
  const next = new Map<string, string>();
  for (const [name, node] of Object.entries(definition.states)) {
    // Only the first unguarded eventless transition can ever be taken (document order).
    const unguarded = normalizeTransitions(node.always, []).find((t) => t.transition.guard === undefined);
    if (unguarded?.transition.target !== undefined) next.set(name, unguarded.transition.target);
  }
  const reported = new Set<string>();
  const problems: DefinitionProblem[] = [];
  for (const start of next.keys()) {
    const seen: string[] = [];
    let current: string | undefined = start;
    while (current !== undefined && !seen.includes(current)) {
      seen.push(current);
      current = next.get(current);
    }
    if (current === start && !reported.has(start)) {
      seen.forEach((s) => reported.add(s));
      problems.push({
        path: formatPath(['states', start, 'always']),
        message: `eventless transitions without guards loop forever (${[...seen, start].join(' → ')})`,
      });
    }
  }
  return problems;
}

function checkXStateAccepts(definition: DefinitionDocument, registries: Registries): DefinitionProblem[] {
  try {
    const machine = createRunMachine(definition, registries, () => undefined);
    // Resolving every transition makes XState report bad targets it would otherwise only find
    // when the transition is first taken.
    for (const node of Object.values(machine.root.states)) {
      void node.transitions;
      void node.always;
    }
    const actor = createActor(machine, { input: {} });
    let failure: unknown;
    actor.subscribe({ error: (err) => (failure = err) });
    actor.start();
    actor.stop();
    if (failure !== undefined) throw failure;
    return [];
  } catch (err) {
    return [{ path: '', message: `XState rejects the machine: ${err instanceof Error ? err.message : String(err)}` }];
  }
}

function shapeProblems(document: unknown): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  // Friendlier words for XState features we leave out than zod's "unrecognized key".
  const states = typeof document === 'object' && document !== null ? (document as { states?: unknown }).states : undefined;
  if (typeof states === 'object' && states !== null) {
    for (const [name, node] of Object.entries(states)) {
      if (typeof node !== 'object' || node === null) continue;
      for (const key of Object.keys(node)) {
        const reason = unsupportedStateKeys[key];
        if (reason !== undefined) problems.push({ path: formatPath(['states', name, key]), message: reason });
      }
    }
  }
  const parsed = DefinitionDocumentSchema.safeParse(document);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const path = formatPath([...issue.path, key]);
          if (!problems.some((p) => p.path === path)) problems.push({ path, message: 'unknown field' });
        }
      } else if (issue.code === 'invalid_key') {
        // zod reports a bad record key (a state name, an event type) with the reason nested.
        const reasons = issue.issues.map((inner) => inner.message).join('; ');
        problems.push({ path: formatPath(issue.path), message: `invalid name: ${reasons}` });
      } else {
        problems.push({ path: formatPath(issue.path), message: issue.message });
      }
    }
  }
  return problems;
}

/**
 * Checks a definition document against the shape, the registries and XState; returns the
 * parsed document or every problem found (shape problems stop the later checks).
 */
export function validateDefinition(document: unknown, registries: Registries): DefinitionValidation {
  const shape = shapeProblems(document);
  if (shape.length > 0) return { ok: false, problems: shape };
  const definition = DefinitionDocumentSchema.parse(document);
  const problems = [...checkReferences(definition, registries), ...checkEventlessLoops(definition)];
  if (problems.length > 0) return { ok: false, problems };
  const xstate = checkXStateAccepts(definition, registries);
  if (xstate.length > 0) return { ok: false, problems: xstate };
  return { ok: true, definition };
}

/**
 * One line per problem, `path: message`; with `field`, each path is prefixed by it
 * (`definition.states.plan.on["activity.done"].target: …`), so every problem names where in the
 * request it is, in a form a client can read back.
 */
export function formatProblems(problems: ReadonlyArray<DefinitionProblem>, field?: string): string {
  return problems
    .map((p) => {
      const at = problemPath(p.path, field);
      return at === '' ? p.message : `${at}: ${p.message}`;
    })
    .join('; ');
}

function problemPath(path: string, field: string | undefined): string {
  if (field === undefined || field === '') return path;
  if (path === '') return field;
  return path.startsWith('[') ? `${field}${path}` : `${field}.${path}`;
}

/**
 * Validates and returns the document, or throws a UserError (INVALID_ARGUMENT at the edge)
 * whose message lists every problem, each at its path under `field` (the request field the
 * document came in): `definition.states.plan.on["activity.done"].target: unknown state "cod" (…)`.
 */
export function parseDefinition(document: unknown, registries: Registries, field = 'definition'): DefinitionDocument {
  const result = validateDefinition(document, registries);
  if (result.ok) return result.definition;
  throw new UserError('INVALID_DEFINITION', formatProblems(result.problems, field), {
    field,
    reason: 'invalid',
    details: { problems: result.problems },
  });
}

/** The state node a name refers to, or undefined. */
export function stateOf(definition: DefinitionDocument, name: string): StateNode | undefined {
  return Object.prototype.hasOwnProperty.call(definition.states, name) ? definition.states[name] : undefined;
}
