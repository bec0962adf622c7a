/**
 * Executes one step of a run, purely: persisted snapshot in, persisted snapshot out. Each
 * step builds the machine from the definition, restores an actor from the snapshot, sends one
 * event and reads the persisted snapshot back, so nothing lives in memory between steps and a
 * crashed engine resumes from the database exactly where it was.
 *
 * Attempts: every entry into a state counts as a visit; the attempt of the current state is
 * its visit count, so the first entry is attempt 1 and re-entering later (or `reenter: true`
 * on a self-transition) is attempt n+1 — a new activity request, while results for the old
 * attempt become stale.
 */
import { createActor, type AnyActorRef } from 'xstate';
import { UnexpectedError } from '@maestro/runtime';
import { createRunMachine, type EntryRecorder } from './compile-definition.js';
import type { DefinitionDocument } from './definition-schema.js';
import type { MachineEvent, Registries, RunContext } from './registries.js';
import { stateOf } from './validate-definition.js';
import { canonicalJson } from './canonical-json.js';

/** A run's lifecycle status, as stored and as sent on the wire. */
export const RunStatuses = {
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
/** One of {@link RunStatuses}. */
export type RunStatus = (typeof RunStatuses)[keyof typeof RunStatuses];

/** True for the statuses a run never leaves. */
export function isFinished(status: RunStatus): boolean {
  return status !== RunStatuses.running;
}

/** Where a run is: everything a step needs and produces. */
export interface RunPosition {
  /** XState's persisted snapshot (JSON). */
  snapshot: unknown;
  state: string;
  status: RunStatus;
  /** Visit number of the current state (1 on the first entry). */
  attempt: number;
  /** How many times each state has been entered. */
  visits: Record<string, number>;
  context: RunContext;
}

/** The outcome of one step. */
export interface RunStep extends RunPosition {
  /** The state before the step. */
  fromState: string;
  /** The states entered during the step, in order (eventless transitions can enter several). */
  entered: string[];
  /** True when a state was entered: the step is a transition and gets a history row. */
  transitioned: boolean;
  /** True when anything persisted changed (a transition, or only the context). */
  changed: boolean;
}

/** A definition paired with the registries it runs against. */
export interface RunnableDefinition {
  definition: DefinitionDocument;
  registries: Registries;
}

interface XStateSnapshot {
  status: 'active' | 'done' | 'error' | 'stopped';
  value: unknown;
  context: RunContext;
  error?: unknown;
}

function statusOf(definition: DefinitionDocument, state: string, snapshot: XStateSnapshot): RunStatus {
  if (snapshot.status !== 'done') return RunStatuses.running;
  const node = stateOf(definition, state);
  if (node?.meta?.status !== undefined) return node.meta.status;
  if (state === RunStatuses.failed || state === RunStatuses.cancelled) return state;
  return RunStatuses.done;
}

const ignoreEntry: EntryRecorder = () => undefined;

/** A definition's machine, built once, and the slot its entry recorder is read from. */
interface CachedMachine {
  machine: ReturnType<typeof createRunMachine>;
  recorder: { current: EntryRecorder };
}

/**
 * Machines by definition document (a compiled definition is cached and immutable). Building
 * one per step cost about a tenth of the engine's CPU under load. A step runs synchronously
 * from start to persisted snapshot, so one recorder slot per machine cannot be shared by two
 * steps at once.
 */
const machines = new WeakMap<DefinitionDocument, Map<Registries, CachedMachine>>();

function machineOf(definition: DefinitionDocument, registries: Registries): CachedMachine {
  let byRegistries = machines.get(definition);
  if (byRegistries === undefined) {
    byRegistries = new Map();
    machines.set(definition, byRegistries);
  }
  let cached = byRegistries.get(registries);
  if (cached === undefined) {
    const recorder = { current: ignoreEntry };
    cached = { machine: createRunMachine(definition, registries, (state) => recorder.current(state)), recorder };
    byRegistries.set(registries, cached);
  }
  return cached;
}

function runActor(
  { definition, registries }: RunnableDefinition,
  options: { snapshot?: unknown; input?: Record<string, unknown> },
  event: MachineEvent | undefined,
): { snapshot: unknown; value: XStateSnapshot; entered: string[] } {
  const entered: string[] = [];
  const { machine, recorder } = machineOf(definition, registries);
  recorder.current = (state) => entered.push(state);
  try {
    return runActorOf(machine, options, event, entered);
  } finally {
    recorder.current = ignoreEntry;
  }
}

function runActorOf(
  machine: ReturnType<typeof createRunMachine>,
  options: { snapshot?: unknown; input?: Record<string, unknown> },
  event: MachineEvent | undefined,
  entered: string[],
): { snapshot: unknown; value: XStateSnapshot; entered: string[] } {
  const actor: AnyActorRef = createActor(machine, options.snapshot === undefined ? { input: options.input ?? {} } : { snapshot: options.snapshot as never });
  let failure: unknown;
  // Without an error observer XState rethrows an action's error asynchronously (process crash).
  actor.subscribe({ error: (err: unknown) => (failure = err) });
  actor.start();
  if (event !== undefined) actor.send(event);
  const value = actor.getSnapshot() as XStateSnapshot;
  const snapshot = actor.getPersistedSnapshot();
  actor.stop();
  if (failure !== undefined || value.status === 'error') {
    const cause = failure ?? value.error;
    throw new UnexpectedError('RUN_STEP_FAILED', `executing the definition failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (typeof value.value !== 'string') {
    // Validation only admits flat machines; a nested value means the invariant broke.
    throw new UnexpectedError('RUN_STEP_FAILED', `expected a flat state value, got ${JSON.stringify(value.value)}`);
  }
  return { snapshot, value, entered };
}

function toStep(runnable: RunnableDefinition, before: RunPosition | undefined, result: ReturnType<typeof runActor>): RunStep {
  const state = result.value.value as string;
  const visits = { ...(before?.visits ?? {}) };
  for (const s of result.entered) visits[s] = (visits[s] ?? 0) + 1;
  const entered = result.entered;
  const attempt = entered.length > 0 ? (visits[state] ?? 1) : (before?.attempt ?? 1);
  const changed = before === undefined || entered.length > 0 || canonicalJson(result.snapshot) !== canonicalJson(before.snapshot);
  return {
    snapshot: result.snapshot,
    state,
    status: statusOf(runnable.definition, state, result.value),
    attempt,
    visits,
    context: result.value.context,
    fromState: before?.state ?? '',
    entered,
    transitioned: entered.length > 0,
    changed,
  };
}

/** Starts a run: enters the initial state (and any eventless transitions out of it). */
export function startRunMachine(runnable: RunnableDefinition, input: Record<string, unknown>): RunStep {
  return toStep(runnable, undefined, runActor(runnable, { input }, undefined));
}

/**
 * Applies one event to a run at `position`. Events the current state does not handle change
 * nothing (`changed: false`); a finished run ignores every event.
 */
export function applyRunEvent(runnable: RunnableDefinition, position: RunPosition, event: MachineEvent): RunStep {
  if (isFinished(position.status)) {
    return { ...position, fromState: position.state, entered: [], transitioned: false, changed: false };
  }
  return toStep(runnable, position, runActor(runnable, { snapshot: position.snapshot }, event));
}

/** How long one attempt of the state's activity may take (`meta.timeoutMs`), if limited. */
export function activityTimeoutOf(definition: DefinitionDocument, state: string): number | undefined {
  return stateOf(definition, state)?.meta?.timeoutMs;
}

/** The activity the state requests on entry, if any. */
export function activityOf(definition: DefinitionDocument, state: string): string | undefined {
  return stateOf(definition, state)?.meta?.activity;
}
