/**
 * The workflow engine: definitions (validated, versioned) and runs (one transaction per step).
 * Transports call it; it knows nothing of gRPC or NATS itself.
 *
 * Every step follows the same path: lock the run, let a pure decision (`domain/run-decision.ts`)
 * judge the persisted snapshot, write the new position and its history row, commit, then
 * publish the effects (`run-effects.ts`) and tell watchers (`run-watcher.ts`). Effects carry
 * deterministic message ids, so re-publishing them after a crash or redelivery is harmless.
 *
 * Nothing a run waits for is lost for good: the timeout sweep (`timeout-sweep.ts`) fails
 * attempts that outlive their state's `meta.timeoutMs`, and `resume` re-publishes activity
 * requests and `run.finished` events that may not have gone out.
 */
import { randomUUID } from 'node:crypto';
import { Tenants, type ActivityRequest, type ActivityResult } from '@maestro/contracts';
import { invalidField, KeyedMutex, notFound, systemClock, UnexpectedError, type Clock, type Logger } from '@maestro/runtime';
import {
  checkRunNote,
  decideNote,
  isNoteEvent,
  type RunNote,
  ACTIVITY_REQUEST_UNPUBLISHABLE,
  cancelEvent,
  checkSendableEventType,
  contentHash,
  deadlineOf,
  isFinished,
  decideActivityResult,
  decideEvent,
  defaultDefinitions,
  defaultRegistries,
  diffDefinitions,
  NAME_PATTERN,
  parseDefinition,
  startRunMachine,
  type DefinitionChange,
  type MachineEvent,
  type Registries,
  type RunnableDefinition,
  type RunStatus,
} from './domain/index.js';
import { EffectQueue } from './effect-queue.js';
import { ResultOutcomes, silentEngineObserver, StepTriggers, type EngineObserver, type StepTrigger } from './engine-observer.js';
import { RunDefinitions } from './run-definitions.js';
import { RunEffects } from './run-effects.js';
import type { RunEventsPublisher } from './run-events-publisher.js';
import { captureTraceParent } from './run-trace.js';
import { RunWatcher, type RunView } from './run-watcher.js';
import type { DefinitionRecord, RunRecord, RunStore, TransitionRecord } from './store/run-store.js';
import { TimeoutSweep } from './timeout-sweep.js';

export type { RunEventsPublisher } from './run-events-publisher.js';
export type { RunView } from './run-watcher.js';
export { ACTIVITY_REQUEST_UNPUBLISHABLE, ACTIVITY_TIMEOUT, toActivityEvent, workIdOf } from './domain/index.js';

/** A stored definition, and whether saving it made a new version. */
export interface SavedDefinition extends DefinitionRecord {
  created: boolean;
}

/**
 * The tenant a call acts for: a tenant name confines it to that tenant's runs and definitions
 * (plus the shared definitions); undefined is an internal caller acting across tenants.
 */
export type TenantScope = string | undefined;

/** What StartRun asks for. */
export interface StartRunInput {
  /** The tenant the run belongs to; its definitions shadow the shared ones. @default undefined: shared definitions, run of `default` */
  tenant?: TenantScope;
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

/** What ListRuns asks for. */
export interface ListRunsInput {
  /** Only this tenant's runs. @default undefined: every tenant's */
  tenant?: TenantScope;
  /** At most this many runs, newest first. */
  limit: number;
  status?: RunStatus;
  definitionName?: string;
  /** Only with `definitionName`. */
  definitionVersion?: number;
  /** The `nextAfterId` of the previous page. */
  afterId?: string;
}

/** A page of runs (without history). */
export interface RunPage {
  runs: RunRecord[];
  /** The cursor of the next page; absent on the last one. */
  nextAfterId?: string;
}

/** A page of a run's history. */
export interface HistoryPageView {
  runId: string;
  transitions: TransitionRecord[];
  /** The `afterSeq` of the next page; 0 on the last one. */
  nextAfterSeq: number;
}

/** The differences between two versions of a definition. */
export interface DefinitionDiffView {
  name: string;
  fromVersion: number;
  toVersion: number;
  /** Sorted by path; empty when equal. */
  changes: DefinitionChange[];
}

/** Dependencies of {@link createWorkflowEngine}; defaults live in {@link engineDefaults}. */
export interface WorkflowEngineDeps {
  store: RunStore;
  publisher: RunEventsPublisher;
  logger: Logger;
  /** @default systemClock */
  clock?: Clock;
  /** @default defaultRegistries */
  registries?: Registries;
  /** Definitions upserted by `ensureDefaultDefinitions`. @default defaultDefinitions (coding, explain) */
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
  /** Told about runs, transitions, requests and publishes (the service passes its metrics). @default silentEngineObserver */
  observer?: EngineObserver;
}

/** The defaults of {@link WorkflowEngineDeps}, in one place. */
export const engineDefaults = {
  watchPollMs: 5000,
  resumePageSize: 200,
  sweepMs: 5000,
  sweepBatchSize: 100,
  sweepRetryDelayMs: 5 * 60 * 1000,
  finishedRepublishWindowMs: 60 * 60 * 1000,
} as const;

/** What `resume` re-published. */
export interface ResumeSummary {
  /** Activity requests of running runs (deduplicated by workId downstream). */
  activityRequests: number;
  /** `run.finished` events of finished runs whose event was not recorded as published. */
  finishedEvents: number;
}

/** Run statuses a ListRuns filter may name. */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'done', 'failed', 'cancelled'];

/** The engine's operations, as the transports use them. */
export interface WorkflowEngine {
  /** Upserts the built-in definitions (a new version only when one changed). */
  ensureDefaultDefinitions(): Promise<SavedDefinition[]>;
  /**
   * Validates and stores a definition as its next version (unless unchanged), in `tenant`; an
   * internal caller's (no tenant) is shared.
   */
  putDefinition(name: string, document: unknown, tenant?: TenantScope): Promise<SavedDefinition>;
  /**
   * A version of a definition (latest when `version` is absent or 0); NOT_FOUND otherwise. The
   * name resolves within `tenant` first, then among the shared ones (see `definitionOwner`).
   */
  getDefinition(name: string, version?: number, tenant?: TenantScope): Promise<DefinitionRecord>;
  /**
   * Without `name`: the latest version of every definition `tenant` can run (its own, and the
   * shared ones it does not shadow; every tenant's for an internal caller). With it: all
   * versions of the one the name resolves to, newest first (NOT_FOUND if none).
   */
  listDefinitions(name?: string, tenant?: TenantScope): Promise<DefinitionRecord[]>;
  /** What changed from one version of a definition to another; NOT_FOUND naming a missing version. */
  diffDefinitions(name: string, fromVersion: number, toVersion: number, tenant?: TenantScope): Promise<DefinitionDiffView>;
  /** Starts a run in the caller's trace, or returns the run of the same idempotency key. */
  startRun(input: StartRunInput): Promise<RunView>;
  /**
   * Sends an event to a run; events its state does not handle change nothing. `xstate.*` and
   * `activity.*` types are reserved (INVALID_ARGUMENT on `type`): activity outcomes come only
   * from {@link applyActivityResult} and the timeout sweep, which check state and attempt.
   */
  sendEvent(runId: string, event: MachineEvent, tenant?: TenantScope): Promise<RunView>;
  /** Sends CANCEL (with `reason` when given); an ended run is returned as it is. */
  cancelRun(runId: string, reason: string, tenant?: TenantScope): Promise<RunView>;
  /**
   * Records a note in the run's history without moving it (see `domain/run-note.ts`), once per
   * note id: a second call returns the first entry. NOT_FOUND for an unknown run (or another tenant's).
   */
  recordRunNote(runId: string, note: RunNote, tenant?: TenantScope): Promise<TransitionRecord>;
  /** Applies an activity result; results for another state or attempt are ignored. */
  applyActivityResult(result: ActivityResult): Promise<ActivityResultOutcome>;
  /** The run with its history; NOT_FOUND for an unknown run, and for another tenant's run alike. */
  getRun(runId: string, tenant?: TenantScope): Promise<RunView>;
  /** A page of a run's transitions after `afterSeq`; NOT_FOUND for an unknown run (or another tenant's). */
  getRunHistory(runId: string, page: { afterSeq: number; limit: number }, tenant?: TenantScope): Promise<HistoryPageView>;
  /** Runs newest first, without their history, a page at a time. */
  listRuns(query: ListRunsInput): Promise<RunPage>;
  /** The run now, then after each change, until it finishes or `signal` aborts. */
  watchRun(runId: string, signal: AbortSignal, tenant?: TenantScope): AsyncGenerator<RunView>;
  /** Tells watchers a run changed elsewhere (another replica); they re-read it. */
  notifyRunChanged(runId: string): void;
  /**
   * Re-publishes the activity request of every running run waiting on one, and `run.finished`
   * of every run that finished within `finishedRepublishWindowMs` without its event recorded
   * as published.
   */
  resume(): Promise<ResumeSummary>;
  /** One pass of the timeout sweep (see `timeout-sweep.ts`); returns how many runs it moved. */
  sweepTimeouts(): Promise<number>;
  /** Starts sweeping every `sweepMs` until `stop()`; call once at start, after `resume()`. */
  startTimeoutSweep(): void;
  /** Ends every WatchRun stream (before the gRPC server drains, so it need not wait for them). */
  endWatches(): void;
  /** Effects waiting to be published by this process (in flight or being retried). */
  pendingEffects(): number;
  /** Stops the timeout sweep and background publishing retries; call after the result consumer has stopped. */
  stop(): Promise<void>;
}

/** True when a caller of `tenant` may see `run`: its own tenant's, or any for an internal caller. */
function visibleTo(run: RunRecord, tenant: TenantScope): boolean {
  return tenant === undefined || run.tenant === tenant;
}

/** Creates the engine. Call `ensureDefaultDefinitions()` and `resume()` once at start. */
export function createWorkflowEngine(deps: WorkflowEngineDeps): WorkflowEngine {
  const { store, publisher } = deps;
  const logger = deps.logger.child({ component: 'engine' });
  const clock = deps.clock ?? systemClock;
  const registries = deps.registries ?? defaultRegistries;
  const builtins = deps.definitions ?? defaultDefinitions;
  const resumePageSize = deps.resumePageSize ?? engineDefaults.resumePageSize;
  const finishedRepublishWindowMs = deps.finishedRepublishWindowMs ?? engineDefaults.finishedRepublishWindowMs;
  const definitions = new RunDefinitions({ store, registries });
  const observer = deps.observer ?? silentEngineObserver;
  const queue = new EffectQueue({ logger, clock, observer });

  const effects = new RunEffects({
    publisher,
    store,
    queue,
    observer,
    registries,
    clock,
    logger,
    onUnpublishableRequest: (request, err) => failUnpublishable(request, err),
  });
  const watcher = new RunWatcher({ loadRun, getHistory: (runId) => store.getHistory(runId), pollMs: deps.watchPollMs ?? engineDefaults.watchPollMs });
  const sweep = new TimeoutSweep({
    store,
    clock,
    logger,
    runnableOf: (run) => runnableOfRun(run),
    committed: (run, transition, runnable, startedAt) => committed(run, transition, runnable, { trigger: StepTriggers.timeout, startedAt }),
    intervalMs: deps.sweepMs ?? engineDefaults.sweepMs,
    batchSize: deps.sweepBatchSize ?? engineDefaults.sweepBatchSize,
    retryDelayMs: deps.sweepRetryDelayMs ?? engineDefaults.sweepRetryDelayMs,
  });

  function loadDefinition(name: string, version: number | undefined, owner: string): Promise<DefinitionRecord> {
    return definitions.load(name, version, owner);
  }

  function runnableOfRun(run: RunRecord): Promise<RunnableDefinition> {
    return definitions.ofRun(run);
  }

  async function loadRun(runId: string, tenant?: TenantScope): Promise<RunView> {
    const run = await store.getRun(runId);
    // Another tenant's run is answered exactly like one that does not exist.
    if (run === undefined || !visibleTo(run, tenant)) throw notFound('run', runId, 'RUN_NOT_FOUND');
    return { ...run, history: await store.getHistory(runId) };
  }

  /** NOT_FOUND, as for an unknown run, unless the run belongs to `tenant` (or the caller is internal). */
  async function checkRunTenant(runId: string, tenant: TenantScope): Promise<void> {
    if (tenant === undefined) return;
    if ((await definitions.tenantOf(runId)) !== tenant) throw notFound('run', runId, 'RUN_NOT_FOUND');
  }

  /**
   * The tenant whose `name` a caller of `tenant` means: its own when it has a definition of that
   * name (shadowing a shared one), the shared ones otherwise; an internal caller means the shared.
   */
  async function definitionOwner(name: string, tenant: TenantScope): Promise<string> {
    if (tenant === undefined) return Tenants.shared;
    return (await store.getDefinition(name, undefined, tenant)) !== undefined ? tenant : Tenants.shared;
  }

  async function resolveDefinition(name: string, version: number | undefined, tenant: TenantScope): Promise<DefinitionRecord> {
    return loadDefinition(name, version, await definitionOwner(name, tenant));
  }

  /**
   * Records a checked note unless the run's history has its id already. One note of a run at a
   * time in this process (`noteQueue`), so two calls with one id here record it once; two engine
   * replicas asked at the very same moment could both record it (see the README).
   */
  async function recordNoteOnce(runId: string, note: RunNote): Promise<TransitionRecord> {
    const recorded = (await store.getHistory(runId)).find((t) => isNoteEvent(t.event) && t.event['noteId'] === note.noteId);
    if (recorded !== undefined) return recorded;
    const outcome = await store.applyToRun(runId, (run) => decideNote(run, note));
    if (outcome === undefined) throw notFound('run', runId, 'RUN_NOT_FOUND');
    if (!outcome.applied || outcome.transition === undefined) throw new UnexpectedError('RUN_NOTE_NOT_RECORDED', `the note ${note.noteId} of run ${runId} was not recorded`);
    await watcher.committed(outcome.run);
    await effects.publish(runId, effects.noted(outcome.run, outcome.transition));
    logger.debug('run note recorded', { runId, type: note.type, noteId: note.noteId, seq: outcome.transition.seq });
    return outcome.transition;
  }
  const noteQueue = new KeyedMutex();

  /** After a commit: tell watchers, publish the transition's effects, then record the step. */
  async function committed(
    run: RunRecord,
    transition: TransitionRecord | undefined,
    runnable: RunnableDefinition,
    step: { trigger: StepTrigger; startedAt: number },
  ): Promise<void> {
    await watcher.committed(run);
    if (transition === undefined) return;
    await effects.publish(run.id, effects.transitioned(run, transition, runnable));
    observer.transitioned(run.definitionName, transition.fromState, step.trigger, (clock.now() - step.startedAt) / 1000);
    if (isFinished(run.status)) observer.runFinished(run.definitionName, run.status);
  }

  /**
   * Fails the attempt whose request can never be published, through the same path as a failed
   * result, so the run ends instead of waiting for work nobody was sent.
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
      finishedAt: new Date(clock.now()).toISOString(),
    });
    logger.error('activity request unpublishable; its attempt failed', { runId: request.runId, workId: request.workId, applied: outcome.applied });
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

    async putDefinition(name, document, tenant) {
      if (!NAME_PATTERN.test(name)) throw invalidField('name', 'must start with a letter or "_" and hold only letters, digits, "_" and "-"');
      const definition = parseDefinition(document, registries, 'definition');
      // A tenant's save is its own version line: a shared definition is never overwritten by one.
      const owner = tenant ?? Tenants.shared;
      const { definition: record, created } = await store.saveDefinition(name, definition, contentHash(definition), owner);
      if (created) logger.info('definition version stored', { name, version: record.version, tenant: owner });
      return { ...record, created };
    },

    getDefinition: (name, version, tenant) => resolveDefinition(name, version, tenant),

    async listDefinitions(name, tenant) {
      if (name === undefined) {
        if (tenant === undefined) return store.listDefinitions();
        // Sorted by name, then tenant: '' (shared) before the tenant's own, which then shadows it.
        const latest = new Map<string, DefinitionRecord>();
        for (const record of await store.listDefinitions([Tenants.shared, tenant])) latest.set(record.name, record);
        return [...latest.values()];
      }
      const versions = await store.listDefinitionVersions(name, await definitionOwner(name, tenant));
      if (versions.length === 0) throw notFound('definition', name, 'DEFINITION_NOT_FOUND');
      return versions;
    },

    async diffDefinitions(name, fromVersion, toVersion, tenant) {
      const owner = await definitionOwner(name, tenant);
      const [from, to] = await Promise.all([loadDefinition(name, fromVersion, owner), loadDefinition(name, toVersion, owner)]);
      return { name, fromVersion, toVersion, changes: diffDefinitions(from.definition, to.definition) };
    },

    async startRun(input) {
      const record = await resolveDefinition(input.definitionName, input.definitionVersion, input.tenant);
      const runnable = definitions.runnableOf(record);
      const step = startRunMachine(runnable, input.input ?? {});
      const { run, created } = await store.createRun({
        id: randomUUID(),
        tenant: input.tenant ?? Tenants.default,
        definitionTenant: record.tenant,
        definitionName: record.name,
        definitionVersion: record.version,
        snapshot: step.snapshot,
        state: step.state,
        status: step.status,
        attempt: step.attempt,
        visits: step.visits,
        context: step.context,
        timeoutAt: deadlineOf(runnable, step.state, step.status, clock.now()),
        // The run belongs to the caller's trace: every later effect is published in it.
        traceParent: captureTraceParent(),
        ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
      });
      definitions.pin(run);
      if (created) {
        observer.runStarted(run.definitionName);
        if (isFinished(run.status)) observer.runFinished(run.definitionName, run.status);
        logger.info('run started', { runId: run.id, tenant: run.tenant, definition: record.name, version: record.version, state: run.state });
        await effects.publish(run.id, effects.started(run, runnable));
        // A run just created has no transitions yet: nothing to read back.
        return { ...run, history: [] };
      }
      // The first start may have crashed before publishing; re-publishing is deduplicated.
      logger.info('run start repeated (idempotency key)', { runId: run.id });
      await effects.publish(run.id, effects.pendingActivity(run, await runnableOfRun(run)));
      return loadRun(run.id);
    },

    async sendEvent(runId, event, tenant) {
      checkSendableEventType(event.type);
      await checkRunTenant(runId, tenant);
      const startedAt = clock.now();
      const runnable = await definitions.ofRunId(runId);
      if (runnable === undefined) throw notFound('run', runId, 'RUN_NOT_FOUND');
      const outcome = await store.applyToRun(runId, (run) => decideEvent(run, runnable, event, clock.now()));
      if (outcome === undefined) throw notFound('run', runId, 'RUN_NOT_FOUND');
      if (!outcome.applied) {
        logger.debug('event ignored', { runId, event: event.type, reason: outcome.reason });
        return { ...outcome.run, history: await store.getHistory(runId) };
      }
      // Per transition, so at debug: at info the log line cost a noticeable share of a step's CPU.
      logger.debug('event applied', { runId, event: event.type, state: outcome.run.state, seq: outcome.transition?.seq });
      const effectsOut = committed(outcome.run, outcome.transition, runnable, { trigger: StepTriggers.event, startedAt });
      // The step's run is the stored one, so only the history is read (unless the store knows
      // it: it wrote all of it), while its effects go out (the step is committed; the reply
      // still waits for both); unless the step finished the run, whose effects then change the
      // row (finished_published), so it is read after them.
      if (isFinished(outcome.run.status)) {
        await effectsOut;
        return loadRun(runId);
      }
      const [history] = await Promise.all([outcome.knownHistory?.() ?? store.getHistory(runId), effectsOut]);
      return { ...outcome.run, history };
    },

    cancelRun: (runId, reason, tenant) => engine.sendEvent(runId, cancelEvent(reason), tenant),

    async recordRunNote(runId, note, tenant) {
      const checked = checkRunNote(note);
      await checkRunTenant(runId, tenant);
      return noteQueue.run(runId, () => recordNoteOnce(runId, checked));
    },


    async applyActivityResult(result) {
      const log = logger.child({ runId: result.runId, workId: result.workId });
      const startedAt = clock.now();
      // The run's pinned definition is usually cached: the step's only read is the store's own.
      const runnable = await definitions.ofRunId(result.runId);
      if (runnable === undefined) {
        log.warn('activity result for an unknown run ignored');
        observer.resultHandled(ResultOutcomes.ignored);
        return { applied: false, reason: 'unknown run' };
      }
      const outcome = await store.applyToRun(result.runId, (run) => decideActivityResult(run, runnable, result, clock.now()));
      if (outcome === undefined) {
        observer.resultHandled(ResultOutcomes.ignored);
        return { applied: false, reason: 'unknown run' };
      }
      observer.resultHandled(outcome.applied ? ResultOutcomes.applied : ResultOutcomes.ignored);
      if (outcome.applied) {
        log.debug('activity result applied', { ok: result.ok, from: result.state, to: outcome.run.state, seq: outcome.transition?.seq });
        await committed(outcome.run, outcome.transition, runnable, { trigger: StepTriggers.result, startedAt });
        return { applied: true, run: outcome.run, transition: outcome.transition };
      }
      log.info('activity result ignored', { reason: outcome.reason });
      // A redelivered result whose transition was committed, but whose effects may have been
      // lost with a crashed engine: publish them again (deduplicated by message id).
      const history = await store.getHistory(result.runId);
      const last = history[history.length - 1];
      if (last !== undefined && last.event['workId'] === result.workId) {
        await effects.publish(outcome.run.id, effects.transitioned(outcome.run, last, runnable));
      }
      return { applied: false, reason: outcome.reason };
    },

    getRun: (runId, tenant) => loadRun(runId, tenant),

    async getRunHistory(runId, page, tenant) {
      const run = await store.getRun(runId);
      if (run === undefined || !visibleTo(run, tenant)) throw notFound('run', runId, 'RUN_NOT_FOUND');
      // One more than asked tells whether another page follows.
      const rows = await store.getHistory(runId, { afterSeq: page.afterSeq, limit: page.limit + 1 });
      const transitions = rows.slice(0, page.limit);
      return { runId, transitions, nextAfterSeq: rows.length > page.limit ? transitions[transitions.length - 1]!.seq : 0 };
    },

    // Lists leave history out (one query, not one per run); GetRun and WatchRun carry it.
    async listRuns(query) {
      const rows = await store.listRuns({ ...query, limit: query.limit + 1 });
      const runs = rows.slice(0, query.limit);
      return rows.length > query.limit ? { runs, nextAfterId: runs[runs.length - 1]!.id } : { runs };
    },

    async *watchRun(runId, signal, tenant) {
      await checkRunTenant(runId, tenant);
      yield* watcher.watch(runId, signal);
    },

    notifyRunChanged(runId) {
      watcher.changedElsewhere(runId);
    },

    async resume() {
      let after: string | undefined;
      let activityRequests = 0;
      for (;;) {
        const page = await store.listRunning(after, resumePageSize);
        if (page.length === 0) break;
        for (const run of page) {
          try {
            const pending = effects.pendingActivity(run, await runnableOfRun(run));
            if (pending.length > 0) {
              activityRequests++;
              await effects.publish(run.id, pending);
            }
          } catch (err) {
            // One broken run (say, its definition no longer validates) must not stop the others.
            logger.error('run not resumed', { runId: run.id, err });
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
          await effects.publish(run.id, effects.finished(run, history[history.length - 1]?.seq));
        }
        after = page[page.length - 1]!.id;
      }
      logger.info('runs resumed', { activityRequests, finishedEvents });
      return { activityRequests, finishedEvents };
    },

    sweepTimeouts: () => sweep.sweepOnce(),

    startTimeoutSweep: () => sweep.start(),

    endWatches: () => watcher.endAll(),

    pendingEffects: () => queue.pending,

    async stop() {
      await sweep.stop();
      await effects.stop();
    },
  };
  return engine;
}
