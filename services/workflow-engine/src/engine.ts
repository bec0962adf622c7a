/**
 * The workflow engine: domain (definitions, pure steps) + store (one transaction per step) +
 * publisher (activity requests and run events after commit). Transports call it; it knows
 * nothing of gRPC or NATS itself.
 *
 * Every step follows the same path: lock the run, compute the step from its persisted
 * snapshot, write the new position and its history row, commit, then publish the effects
 * (a request for the new state's activity, run events). Effects carry deterministic message
 * ids, so re-publishing them after a crash or redelivery is harmless.
 *
 * Nothing a run waits for is allowed to be lost for good: a periodic sweep fails attempts that
 * outlive their state's `meta.timeoutMs` (through the same one-transaction step), and resume
 * re-publishes activity requests and `run.finished` events that may not have gone out.
 */
import { randomUUID } from 'node:crypto';
import { Subjects, type ActivityRequest, type ActivityRequestedEvent, type ActivityResult, type RunEvent, type WorkQueue } from '@maestro/contracts';
import { invalidField, notFound, systemClock, type Clock, type Logger } from '@maestro/runtime';
import {
  activityOf,
  activityTimeoutOf,
  applyRunEvent,
  contentHash,
  defaultDefinitions,
  defaultRegistries,
  isFinished,
  NAME_PATTERN,
  parseDefinition,
  startRunMachine,
  type MachineEvent,
  type Registries,
  type RunnableDefinition,
  type RunStatus,
} from './domain/index.js';
import { EffectQueue, type Effect } from './effect-queue.js';
import { RunChanges } from './run-changes.js';
import type { DefinitionRecord, RunDecision, RunRecord, RunStore, TransitionRecord } from './store/run-store.js';

/** Where the engine publishes; implemented over NATS by `NatsRunEventsPublisher`. */
export interface RunEventsPublisher {
  /** Work on `maestro.work.<queue>.<activity>`, message id = workId. Throws when not stored. */
  publishActivityRequest(queue: WorkQueue, request: ActivityRequest): Promise<void>;
  /** A fact on `maestro.events.…` with a deterministic message id. Throws when not stored. */
  publishEvent(subject: string, payload: RunEvent | ActivityRequestedEvent, msgId: string): Promise<void>;
}

/** A run with its history, as RPCs return it. */
export interface RunView extends RunRecord {
  history: TransitionRecord[];
}

/** A stored definition, and whether saving it made a new version. */
export interface SavedDefinition extends DefinitionRecord {
  created: boolean;
}

/** What StartRun asks for. */
export interface StartRunInput {
  definitionName: string;
  /** Absent or 0: the latest version. */
  definitionVersion?: number;
  input?: Record<string, unknown>;
  /** A second start with the same key returns the first run. */
  idempotencyKey?: string;
}

/** What became of an activity result. */
export type ActivityResultOutcome =
  | { applied: true; run: RunRecord; transition: TransitionRecord | undefined }
  | { applied: false; reason: string };

/** Dependencies of {@link createWorkflowEngine}. */
export interface WorkflowEngineDeps {
  store: RunStore;
  publisher: RunEventsPublisher;
  logger: Logger;
  /** @default systemClock */
  clock?: Clock;
  /** @default defaultRegistries */
  registries?: Registries;
  /** Definitions upserted by `ensureDefaultDefinitions`. @default defaultDefinitions (coding) */
  definitions?: Readonly<Record<string, unknown>>;
  /** How often WatchRun re-reads a run even without a notification. @default 5000 */
  watchPollMs?: number;
  /** Running runs read per page by `resume`. @default 200 */
  resumePageSize?: number;
  /** How often the timeout sweep looks for activities past their `meta.timeoutMs`. @default 5000 */
  sweepMs?: number;
  /** Timed-out runs one sweep handles at most per batch. @default 100 */
  sweepBatchSize?: number;
  /**
   * How far the sweep pushes back the deadline of a run it failed to handle (its definition no
   * longer loads, its step throws), so such runs do not stay first in line and starve the
   * others. @default 300000 (5 min)
   */
  sweepRetryDelayMs?: number;
  /**
   * How far back `resume` looks for finished runs whose `run.finished` may not have gone out
   * (older ones are left alone: whoever waited has long since read the run). @default 3600000 (1 h)
   */
  finishedRepublishWindowMs?: number;
}

/** What `resume` re-published. */
export interface ResumeSummary {
  /** Activity requests of running runs (deduplicated by workId downstream). */
  activityRequests: number;
  /** `run.finished` events of finished runs whose event was not recorded as published. */
  finishedEvents: number;
}

/** The error code of the `activity.failed` the engine sends when an attempt outlives `meta.timeoutMs`. */
export const ACTIVITY_TIMEOUT = 'ACTIVITY_TIMEOUT';

/** The error code of the `activity.failed` the engine applies when an activity request can never be published. */
export const ACTIVITY_REQUEST_UNPUBLISHABLE = 'ACTIVITY_REQUEST_UNPUBLISHABLE';

/** Run statuses a ListRuns filter may name. */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'done', 'failed', 'cancelled'];

const MAX_CACHED_DEFINITIONS = 256;

/** The engine's operations, as the transports use them. */
export interface WorkflowEngine {
  /** Upserts the built-in definitions (a new version only when one changed). */
  ensureDefaultDefinitions(): Promise<SavedDefinition[]>;
  /** Validates and stores a definition as its next version (unless unchanged). */
  putDefinition(name: string, document: unknown): Promise<SavedDefinition>;
  /** A version of a definition (latest when `version` is absent or 0); NOT_FOUND otherwise. */
  getDefinition(name: string, version?: number): Promise<DefinitionRecord>;
  /** The latest version of every definition. */
  listDefinitions(): Promise<DefinitionRecord[]>;
  /** Starts a run, or returns the run of the same idempotency key. */
  startRun(input: StartRunInput): Promise<RunView>;
  /**
   * Sends an event to a run; events its state does not handle change nothing. `xstate.*` and
   * `activity.*` types are reserved (INVALID_ARGUMENT on `type`): activity outcomes come only
   * from {@link applyActivityResult} and the timeout sweep, which check state and attempt.
   */
  sendEvent(runId: string, event: MachineEvent): Promise<RunView>;
  /** Applies an activity result; results for another state or attempt are ignored. */
  applyActivityResult(result: ActivityResult): Promise<ActivityResultOutcome>;
  getRun(runId: string): Promise<RunView>;
  /** Runs newest first, without their history. */
  listRuns(query: { limit: number; status?: RunStatus }): Promise<RunRecord[]>;
  /** The run now, then after each change, until it finishes or `signal` aborts. */
  watchRun(runId: string, signal: AbortSignal): AsyncGenerator<RunView>;
  /** Tells watchers a run changed elsewhere (another replica); they re-read it. */
  notifyRunChanged(runId: string): void;
  /**
   * Re-publishes the activity request of every running run waiting on one, and `run.finished`
   * of every run that finished within `finishedRepublishWindowMs` without its event recorded
   * as published.
   */
  resume(): Promise<ResumeSummary>;
  /**
   * One pass of the timeout sweep: fails (`activity.failed`, code ACTIVITY_TIMEOUT) the current
   * attempt of every running run whose activity deadline has passed by the clock; returns how
   * many runs it moved. Safe to run on several replicas at once: each run is taken with
   * `FOR UPDATE SKIP LOCKED` and re-checked under the lock.
   */
  sweepTimeouts(): Promise<number>;
  /** Starts sweeping every `sweepMs` until `stop()`; call once at start, after `resume()`. */
  startTimeoutSweep(): void;
  /** Ends every WatchRun stream (before the gRPC server drains, so it need not wait for them). */
  endWatches(): void;
  /** Stops the timeout sweep and background publishing retries; call after the result consumer has stopped. */
  stop(): Promise<void>;
}

function isoOf(date: Date): string {
  return date.toISOString();
}

/** The engine's event for an activity result. */
export function toActivityEvent(result: ActivityResult): MachineEvent {
  const base = { workId: result.workId, state: result.state, activity: result.activity, attempt: result.attempt };
  return result.ok
    ? { type: 'activity.done', ...base, output: result.output ?? {} }
    : { type: 'activity.failed', ...base, error: result.error ?? { code: 'ACTIVITY_FAILED', message: 'the activity failed without saying why' } };
}

/** The `${runId}:${state}:${attempt}` id of an activity request, stable across re-publishes. */
export function workIdOf(runId: string, state: string, attempt: number): string {
  return `${runId}:${state}:${attempt}`;
}

/** Creates the engine. Call `ensureDefaultDefinitions()` and `resume()` once at start. */
export function createWorkflowEngine(deps: WorkflowEngineDeps): WorkflowEngine {
  const { store, publisher } = deps;
  const logger = deps.logger.child({ component: 'engine' });
  const clock = deps.clock ?? systemClock;
  const registries = deps.registries ?? defaultRegistries;
  const builtins = deps.definitions ?? defaultDefinitions;
  const watchPollMs = deps.watchPollMs ?? 5000;
  const resumePageSize = deps.resumePageSize ?? 200;
  const sweepMs = deps.sweepMs ?? 5000;
  const sweepBatchSize = deps.sweepBatchSize ?? 100;
  const sweepRetryDelayMs = deps.sweepRetryDelayMs ?? 5 * 60 * 1000;
  const finishedRepublishWindowMs = deps.finishedRepublishWindowMs ?? 60 * 60 * 1000;
  const effects = new EffectQueue({ logger, clock });
  const changes = new RunChanges<RunView>();
  const cache = new Map<string, RunnableDefinition>();
  const watchesEnded = new AbortController();
  let sweeping: Promise<void> | undefined;
  let sweepStopped = false;
  let wakeSweep: () => void = () => undefined;

  function runnableOf(record: DefinitionRecord): RunnableDefinition {
    const key = `${record.name}@${record.version}`;
    let runnable = cache.get(key);
    if (runnable === undefined) {
      // Stored definitions were valid when saved; re-checking catches a registry that lost a
      // name since, with a message saying which.
      runnable = { definition: parseDefinition(record.definition, registries, `definition ${key}`), registries };
      if (cache.size >= MAX_CACHED_DEFINITIONS) cache.delete(cache.keys().next().value!);
      cache.set(key, runnable);
    }
    return runnable;
  }

  async function loadDefinition(name: string, version?: number): Promise<DefinitionRecord> {
    const record = await store.getDefinition(name, version === 0 ? undefined : version);
    if (record === undefined) throw notFound('definition', version ? `${name} version ${version}` : name, 'DEFINITION_NOT_FOUND');
    return record;
  }

  async function loadRun(runId: string): Promise<RunView> {
    const run = await store.getRun(runId);
    if (run === undefined) throw notFound('run', runId, 'RUN_NOT_FOUND');
    return { ...run, history: await store.getHistory(runId) };
  }

  function runEvent(run: RunRecord, at: Date, extra: Partial<RunEvent> = {}): RunEvent {
    const event: RunEvent = {
      runId: run.id,
      definitionName: run.definitionName,
      status: run.status,
      state: run.state,
      input: run.context.input,
      at: isoOf(at),
      ...extra,
    };
    if (run.context.error !== undefined && isFinished(run.status)) {
      event.error = { code: run.context.error.code, message: run.context.error.message };
    }
    return event;
  }

  /** The request for the current state's activity, when the run is waiting on one. */
  function pendingActivity(run: RunRecord, runnable: RunnableDefinition): Effect[] {
    if (isFinished(run.status)) return [];
    const activity = activityOf(runnable.definition, run.state);
    if (activity === undefined) return [];
    const entry = registries.activities[activity];
    if (entry === undefined) return [];
    const workId = workIdOf(run.id, run.state, run.attempt);
    const requestedAt = isoOf(new Date(clock.now()));
    const request: ActivityRequest = { workId, runId: run.id, state: run.state, activity, attempt: run.attempt, context: run.context, requestedAt };
    const requested: ActivityRequestedEvent = { runId: run.id, state: run.state, activity, attempt: run.attempt, at: requestedAt };
    // One effect, so a request that can never be published takes its activity.requested with
    // it; a retry after the request went out publishes only the event.
    let requestOut = false;
    return [
      {
        description: `activity request ${workId}`,
        publish: async () => {
          if (!requestOut) {
            await publisher.publishActivityRequest(entry.queue, request);
            requestOut = true;
          }
          await publisher.publishEvent(Subjects.activityRequested, requested, `${workId}:requested`);
        },
        onPermanentFailure: async (err) => {
          // Only the event failed: the work is out and its result will come.
          if (requestOut) return;
          await failUnpublishable(request, err);
        },
      },
    ];
  }

  /**
   * Fails the attempt whose request can never be published (a payload its schema rejects, one
   * over NATS max_payload), through the same path as a failed result, so the run ends instead
   * of waiting for work nobody was sent.
   */
  async function failUnpublishable(request: ActivityRequest, err: unknown): Promise<void> {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const outcome = await engine.applyActivityResult({
      workId: request.workId,
      runId: request.runId,
      state: request.state,
      activity: request.activity,
      attempt: request.attempt,
      ok: false,
      error: { code: ACTIVITY_REQUEST_UNPUBLISHABLE, message: `the request for activity "${request.activity}" could not be published: ${reason.slice(0, 1000)}` },
      finishedAt: isoOf(new Date(clock.now())),
    });
    logger.error('activity request unpublishable; its attempt failed', { runId: request.runId, workId: request.workId, applied: outcome.applied });
  }

  /** `run.finished`, with the seq of the transition that finished the run (none when it started finished). */
  function finishedEffect(run: RunRecord, seq: number | undefined): Effect[] {
    if (!isFinished(run.status)) return [];
    const event = runEvent(run, run.updatedAt, seq === undefined ? {} : { seq });
    return [
      {
        description: `run.finished ${run.id}`,
        publish: async () => {
          await publisher.publishEvent(Subjects.runFinished, event, `${run.id}:finished`);
          try {
            await store.markFinishedPublished(run.id);
          } catch (err) {
            // The event is out; failing the effect would only publish it again. Resume will
            // re-publish it once (harmless: same message id) since the flag stayed false.
            logger.warn('run.finished published but not recorded as published', { runId: run.id, err: err instanceof Error ? err.message : String(err) });
          }
        },
      },
    ];
  }

  /** When an attempt of `state` entered now times out, or null when the state has no timeout. */
  function deadlineOf(runnable: RunnableDefinition, state: string, status: RunStatus): Date | null {
    if (isFinished(status)) return null;
    const timeoutMs = activityTimeoutOf(runnable.definition, state);
    return timeoutMs === undefined ? null : new Date(clock.now() + timeoutMs);
  }

  function transitionEffects(run: RunRecord, transition: TransitionRecord, runnable: RunnableDefinition): Effect[] {
    const event = runEvent(run, transition.at, { fromState: transition.fromState, eventType: transition.eventType, seq: transition.seq, state: transition.toState });
    return [
      {
        description: `run.transitioned ${run.id}#${transition.seq}`,
        publish: () => publisher.publishEvent(Subjects.runTransitioned, event, `${run.id}:${transition.seq}`),
      },
      ...finishedEffect(run, transition.seq),
      ...pendingActivity(run, runnable),
    ];
  }

  function startEffects(run: RunRecord, runnable: RunnableDefinition): Effect[] {
    const event = runEvent(run, run.createdAt);
    return [
      { description: `run.started ${run.id}`, publish: () => publisher.publishEvent(Subjects.runStarted, event, `${run.id}:started`) },
      ...finishedEffect(run, undefined),
      ...pendingActivity(run, runnable),
    ];
  }

  function decide(run: RunRecord, runnable: RunnableDefinition, event: MachineEvent): RunDecision {
    const step = applyRunEvent(runnable, run, event);
    if (!step.changed) return { kind: 'ignore', reason: `state "${run.state}" does not handle ${event.type}` };
    const position = { snapshot: step.snapshot, state: step.state, status: step.status, attempt: step.attempt, visits: step.visits, context: step.context };
    if (!step.transitioned) return { kind: 'update', position };
    return {
      kind: 'update',
      position,
      transition: { fromState: run.state, toState: step.state, eventType: event.type, event: { ...event } },
      // Entering a state starts a new attempt, and with it a new deadline (or none).
      timeoutAt: deadlineOf(runnable, step.state, step.status),
    };
  }

  /** The event the sweep sends for an attempt that outlived its timeout. */
  function timeoutEvent(run: RunRecord, activity: string, timeoutMs: number): MachineEvent {
    return {
      type: 'activity.failed',
      workId: workIdOf(run.id, run.state, run.attempt),
      state: run.state,
      activity,
      attempt: run.attempt,
      error: {
        code: ACTIVITY_TIMEOUT,
        message: `activity "${activity}" of state "${run.state}" (attempt ${run.attempt}) did not report a result within ${timeoutMs} ms`,
      },
    };
  }

  /** The sweep's decision for a locked, due run: its timeout event, and never a deadline left behind. */
  function decideTimeout(run: RunRecord, runnable: RunnableDefinition): RunDecision {
    const activity = activityOf(runnable.definition, run.state);
    const timeoutMs = activityTimeoutOf(runnable.definition, run.state);
    if (activity === undefined || timeoutMs === undefined) return { kind: 'ignore', reason: `state ${run.state} has no activity timeout`, clearTimeout: true };
    const decision = decide(run, runnable, timeoutEvent(run, activity, timeoutMs));
    // A state that ignores activity.failed, or handles it without leaving, keeps waiting, but
    // must not be found due again at every sweep.
    if (decision.kind === 'ignore') return { ...decision, clearTimeout: true };
    return decision.transition === undefined ? { ...decision, timeoutAt: null } : decision;
  }

  async function commitEffects(run: RunRecord, transition: TransitionRecord | undefined, runnable: RunnableDefinition): Promise<void> {
    if (changes.isWatched(run.id)) changes.notify(run.id, { ...run, history: await store.getHistory(run.id) });
    if (transition !== undefined) await effects.enqueue(transitionEffects(run, transition, runnable));
  }

  async function* watch(runId: string, signal: AbortSignal): AsyncGenerator<RunView> {
    let wake: () => void = () => undefined;
    const inbox: Array<RunView | undefined> = [];
    const unsubscribe = changes.subscribe(runId, (run) => {
      inbox.push(run);
      wake();
    });
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort);
    watchesEnded.signal.addEventListener('abort', onAbort);
    const ended = () => signal.aborted || watchesEnded.signal.aborted;
    try {
      // Subscribed before the first read, so no change between the two is missed.
      let last = await loadRun(runId);
      yield last;
      while (!isFinished(last.status) && !ended()) {
        if (inbox.length === 0) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              resolve();
            };
            // The poll covers changes no notification reports (a replica without NATS events).
            const timer = setTimeout(done, watchPollMs);
            wake = done;
          });
          if (ended()) break;
          if (inbox.length === 0) inbox.push(undefined); // poll: re-read
        }
        const next = inbox.shift();
        // A committed view that is exactly the next transition is sent as it was; an older view
        // (notifications can overtake each other) is dropped; anything else (a remote
        // notification, a poll, a gap) is re-read, so the stream never goes backwards.
        let candidate: RunView;
        if (next !== undefined && next.history.length === last.history.length + 1) candidate = next;
        else if (next !== undefined && next.updatedAt.getTime() <= last.updatedAt.getTime()) continue;
        else candidate = await loadRun(runId);
        const moved = candidate.history.length > last.history.length || candidate.updatedAt.getTime() > last.updatedAt.getTime();
        if (!moved) continue;
        last = candidate;
        yield last;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      watchesEnded.signal.removeEventListener('abort', onAbort);
    }
  }

  const engine: WorkflowEngine = {
    async ensureDefaultDefinitions() {
      const saved: SavedDefinition[] = [];
      for (const [name, document] of Object.entries(builtins)) {
        const result = await engine.putDefinition(name, document);
        logger.info(result.created ? 'default definition stored' : 'default definition unchanged', { name, version: result.version });
        saved.push(result);
      }
      return saved;
    },

    async putDefinition(name, document) {
      if (!NAME_PATTERN.test(name)) throw invalidField('name', 'must start with a letter or "_" and hold only letters, digits, "_" and "-"');
      const definition = parseDefinition(document, registries, 'definition');
      const { definition: record, created } = await store.saveDefinition(name, definition, contentHash(definition));
      if (created) logger.info('definition version stored', { name, version: record.version });
      return { ...record, created };
    },

    getDefinition: (name, version) => loadDefinition(name, version),

    listDefinitions: () => store.listDefinitions(),

    async startRun(input) {
      const record = await loadDefinition(input.definitionName, input.definitionVersion);
      const runnable = runnableOf(record);
      const step = startRunMachine(runnable, input.input ?? {});
      const { run, created } = await store.createRun({
        id: randomUUID(),
        definitionName: record.name,
        definitionVersion: record.version,
        snapshot: step.snapshot,
        state: step.state,
        status: step.status,
        attempt: step.attempt,
        visits: step.visits,
        context: step.context,
        timeoutAt: deadlineOf(runnable, step.state, step.status),
        ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
      });
      if (created) {
        logger.info('run started', { runId: run.id, definition: record.name, version: record.version, state: run.state });
        await effects.enqueue(startEffects(run, runnable));
      } else {
        // The first start may have crashed before publishing; re-publishing is deduplicated.
        logger.info('run start repeated (idempotency key)', { runId: run.id });
        const existing = runnableOf(await loadDefinition(run.definitionName, run.definitionVersion));
        await effects.enqueue(pendingActivity(run, existing));
      }
      const view = await loadRun(run.id);
      return view;
    },

    async sendEvent(runId, event) {
      if (event.type.startsWith('xstate.')) throw invalidField('type', 'event types starting with "xstate." are reserved');
      // Activity outcomes carry a state and attempt that only the result path checks; sent from
      // outside they could finish a state whose work is still running.
      if (event.type.startsWith('activity.')) {
        throw invalidField('type', `event types starting with "activity." are reserved for activity results (got "${event.type}"); publish an ActivityResult instead`);
      }
      const current = await store.getRun(runId);
      if (current === undefined) throw notFound('run', runId, 'RUN_NOT_FOUND');
      const runnable = runnableOf(await loadDefinition(current.definitionName, current.definitionVersion));
      const outcome = await store.applyToRun(runId, (run) => {
        if (isFinished(run.status)) return { kind: 'ignore', reason: `run is ${run.status}` };
        return decide(run, runnable, event);
      });
      if (outcome === undefined) throw notFound('run', runId, 'RUN_NOT_FOUND');
      if (outcome.applied) {
        logger.info('event applied', { runId, event: event.type, state: outcome.run.state, seq: outcome.transition?.seq });
        await commitEffects(outcome.run, outcome.transition, runnable);
      } else {
        logger.debug('event ignored', { runId, event: event.type, reason: outcome.reason });
      }
      return loadRun(runId);
    },

    async applyActivityResult(result) {
      const log = logger.child({ runId: result.runId, workId: result.workId });
      const current = await store.getRun(result.runId);
      if (current === undefined) {
        log.warn('activity result for an unknown run ignored');
        return { applied: false, reason: 'unknown run' };
      }
      const runnable = runnableOf(await loadDefinition(current.definitionName, current.definitionVersion));
      const event = toActivityEvent(result);
      const outcome = await store.applyToRun(result.runId, (run) => {
        if (isFinished(run.status)) return { kind: 'ignore', reason: `run is ${run.status}` };
        if (run.state !== result.state || run.attempt !== result.attempt) {
          return { kind: 'ignore', reason: `stale: run is in ${run.state} attempt ${run.attempt}, result is for ${result.state} attempt ${result.attempt}` };
        }
        const activity = activityOf(runnable.definition, run.state);
        if (activity !== result.activity) return { kind: 'ignore', reason: `state ${run.state} requests ${activity ?? 'no activity'}, not ${result.activity}` };
        return decide(run, runnable, event);
      });
      if (outcome === undefined) return { applied: false, reason: 'unknown run' };
      if (outcome.applied) {
        log.info('activity result applied', { ok: result.ok, from: result.state, to: outcome.run.state, seq: outcome.transition?.seq });
        await commitEffects(outcome.run, outcome.transition, runnable);
        return { applied: true, run: outcome.run, transition: outcome.transition };
      }
      log.info('activity result ignored', { reason: outcome.reason });
      // A redelivered result whose transition was committed, but whose effects may have been
      // lost with a crashed engine: publish them again (deduplicated by message id).
      const history = await store.getHistory(result.runId);
      const last = history[history.length - 1];
      if (last !== undefined && last.event['workId'] === result.workId) {
        await effects.enqueue(transitionEffects(outcome.run, last, runnable));
      }
      return { applied: false, reason: outcome.reason };
    },

    getRun: (runId) => loadRun(runId),

    // Lists leave history out (one query, not one per run); GetRun and WatchRun carry it.
    listRuns: (query) => store.listRuns(query),

    watchRun: watch,

    notifyRunChanged(runId) {
      changes.notify(runId);
    },

    async resume() {
      let after: string | undefined;
      let activityRequests = 0;
      for (;;) {
        const page = await store.listRunning(after, resumePageSize);
        if (page.length === 0) break;
        for (const run of page) {
          try {
            const pending = pendingActivity(run, runnableOf(await loadDefinition(run.definitionName, run.definitionVersion)));
            if (pending.length > 0) {
              activityRequests++;
              await effects.enqueue(pending);
            }
          } catch (err) {
            // One broken run (say, its definition no longer validates) must not stop the others.
            logger.error('run not resumed', { runId: run.id, err: err instanceof Error ? err.message : String(err) });
          }
        }
        after = page[page.length - 1]!.id;
      }
      // A run.finished lost with a crashed engine (or never stored while NATS was away) would
      // leave live followers waiting; its message id makes a second copy harmless in the stream.
      let finishedEvents = 0;
      after = undefined;
      for (;;) {
        const page = await store.listFinishedUnpublished(finishedRepublishWindowMs, after, resumePageSize);
        if (page.length === 0) break;
        for (const run of page) {
          const history = await store.getHistory(run.id);
          finishedEvents++;
          await effects.enqueue(finishedEffect(run, history[history.length - 1]?.seq));
        }
        after = page[page.length - 1]!.id;
      }
      logger.info('runs resumed', { activityRequests, finishedEvents });
      return { activityRequests, finishedEvents };
    },

    async sweepTimeouts() {
      let fired = 0;
      for (;;) {
        const now = new Date(clock.now());
        const due = await store.listTimedOut(now, sweepBatchSize);
        let moved = 0;
        for (const candidate of due) {
          const log = logger.child({ runId: candidate.id, state: candidate.state, attempt: candidate.attempt });
          try {
            const runnable = runnableOf(await loadDefinition(candidate.definitionName, candidate.definitionVersion));
            const outcome = await store.applyToTimedOutRun(candidate.id, now, (run) => decideTimeout(run, runnable));
            // Undefined: a result moved the run on meanwhile, or another replica holds it.
            if (outcome === undefined) continue;
            if (outcome.applied) {
              moved++;
              log.warn('activity timed out', { to: outcome.run.state, status: outcome.run.status, seq: outcome.transition?.seq });
              await commitEffects(outcome.run, outcome.transition, runnable);
            } else {
              log.warn('activity timed out; the state does not handle activity.failed, so the run keeps waiting', { reason: outcome.reason });
            }
          } catch (err) {
            const retryAt = new Date(now.getTime() + sweepRetryDelayMs);
            log.error('activity timeout not applied; retrying later', { err: err instanceof Error ? err.message : String(err), retryAt: isoOf(retryAt) });
            try {
              await store.postponeTimeout(candidate.id, now, retryAt);
            } catch (postponeErr) {
              // The database is likely away; the sweep itself will fail next and try again.
              log.error('could not postpone a failed activity timeout', { err: postponeErr instanceof Error ? postponeErr.message : String(postponeErr) });
            }
          }
        }
        fired += moved;
        // A full batch that made progress may have more behind it; anything else waits for the next sweep.
        if (due.length < sweepBatchSize || moved === 0) break;
      }
      return fired;
    },

    startTimeoutSweep() {
      if (sweeping !== undefined || sweepStopped) return;
      sweeping = (async () => {
        while (!sweepStopped) {
          // stop() wakes the wait early rather than sitting out the interval.
          await Promise.race([clock.sleep(sweepMs), new Promise<void>((resolve) => (wakeSweep = resolve))]);
          if (sweepStopped) break;
          try {
            await engine.sweepTimeouts();
          } catch (err) {
            // The database may be away; the next sweep tries again.
            logger.error('timeout sweep failed', { err: err instanceof Error ? err.message : String(err) });
          }
        }
      })();
    },

    endWatches: () => watchesEnded.abort(),

    async stop() {
      sweepStopped = true;
      wakeSweep();
      await sweeping;
      await effects.stop();
    },
  };
  return engine;
}
