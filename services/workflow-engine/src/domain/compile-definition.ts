/**
 * Turns a definition document into the XState machine config that executes it. The document
 * names actions; the compiled config passes every action the state it belongs to as params
 * (`{ type: 'storeOutput', params: { state: 'plan' } }`), so actions like `storeOutput` know
 * where to write without reading anything outside the event and context. Every state also
 * gets a first entry action, {@link ENTERED_ACTION}, through which the executor learns which
 * states a step entered (XState snapshots do not say).
 */
import { createMachine } from 'xstate';
import type { DefinitionDocument, StateNode, TransitionObject, TransitionSpec } from './definition-schema.js';
import type { ActionParams, MachineEvent, Registries, RunContext } from './registries.js';

/** The name of the entry action the executor uses to record state entries. */
export const ENTERED_ACTION = '$maestro.entered';

/** A transition in its one normalized spelling, with the path of each part in the document. */
export interface NormalizedTransition {
  transition: TransitionObject;
  /** Path of the transition object (or of the string, for the shorthand). */
  path: PropertyKey[];
  /** True when written as a bare target string; the target's path is then `path` itself. */
  shorthand: boolean;
}

/** Normalizes the three spellings of a transition into a list of objects. */
export function normalizeTransitions(spec: TransitionSpec | undefined, path: PropertyKey[]): NormalizedTransition[] {
  if (spec === undefined) return [];
  if (typeof spec === 'string') return [{ transition: { target: spec }, path, shorthand: true }];
  if (Array.isArray(spec)) return spec.map((transition, i) => ({ transition, path: [...path, i], shorthand: false }));
  return [{ transition: spec, path, shorthand: false }];
}

/** Normalizes an action list (one name or several) into an array. */
export function actionNames(list: string | string[] | undefined): string[] {
  if (list === undefined) return [];
  return typeof list === 'string' ? [list] : list;
}

interface ActionRef {
  type: string;
  params: ActionParams;
}

function toActionRefs(list: string | string[] | undefined, state: string): ActionRef[] {
  return actionNames(list).map((type) => ({ type, params: { state } }));
}

function toXStateTransitions(spec: TransitionSpec | undefined, state: string): Array<Record<string, unknown>> {
  return normalizeTransitions(spec, []).map(({ transition }) => {
    const out: Record<string, unknown> = { actions: toActionRefs(transition.actions, state) };
    if (transition.target !== undefined) out['target'] = transition.target;
    if (transition.guard !== undefined) out['guard'] = transition.guard;
    if (transition.reenter !== undefined) out['reenter'] = transition.reenter;
    return out;
  });
}

function toXStateState(name: string, node: StateNode): Record<string, unknown> {
  const out: Record<string, unknown> = {
    entry: [{ type: ENTERED_ACTION, params: { state: name } }, ...toActionRefs(node.entry, name)],
  };
  if (node.type === 'final') out['type'] = 'final';
  if (node.exit !== undefined) out['exit'] = toActionRefs(node.exit, name);
  if (node.meta !== undefined) out['meta'] = node.meta;
  if (node.on !== undefined) {
    out['on'] = Object.fromEntries(Object.entries(node.on).map(([event, spec]) => [event, toXStateTransitions(spec, name)]));
  }
  if (node.always !== undefined) out['always'] = toXStateTransitions(node.always, name);
  return out;
}

/** The initial context of a run: the definition's context, `outputs: {}`, and the run's input. */
export function initialContext(definition: DefinitionDocument, input: Record<string, unknown>): RunContext {
  // structuredClone: the definition object is shared by every run of it and must not be mutated.
  return { outputs: {}, ...structuredClone(definition.context ?? {}), input: structuredClone(input) };
}

/** The XState machine config for a definition (plain data apart from the context factory). */
export function toMachineConfig(definition: DefinitionDocument): Record<string, unknown> {
  return {
    id: definition.id,
    initial: definition.initial,
    context: ({ input }: { input: Record<string, unknown> | undefined }) => initialContext(definition, input ?? {}),
    states: Object.fromEntries(Object.entries(definition.states).map(([name, node]) => [name, toXStateState(name, node)])),
  };
}

/** Receives the name of every state a step enters, in order. */
export type EntryRecorder = (state: string) => void;

/**
 * Builds an executable XState machine for a definition, with the registries' implementations
 * and an entry recorder. `run-machine.ts` builds one per definition and points its recorder at
 * the step being run.
 */
export function createRunMachine(definition: DefinitionDocument, registries: Registries, onEnter: EntryRecorder) {
  const actions: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(registries.actions)) actions[name] = entry.implementation;
  actions[ENTERED_ACTION] = (_args: unknown, params: ActionParams) => onEnter(params.state);
  const guards: Record<string, (args: { context: RunContext; event: MachineEvent }) => boolean> = {};
  for (const [name, entry] of Object.entries(registries.guards)) guards[name] = entry.check;
  // The config is data built from a validated document; XState's generic machine types cannot
  // describe names that only exist at runtime, so the config and implementations go in untyped.
  return createMachine(toMachineConfig(definition) as never).provide({ actions, guards } as never);
}
