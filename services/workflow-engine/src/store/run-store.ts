/**
 * The storage port of the engine: definitions (versioned) and runs (snapshot, position and
 * history). The one write path for a run, `applyToRun`, locks the run, lets the caller decide
 * from what is stored, and writes the new position and its history row in one transaction,
 * so a crash leaves either both or neither.
 */
import type { RunDecision, RunPosition, RunStatus } from '../domain/index.js';

export type { RunDecision } from '../domain/index.js';

/** One stored version of a definition. */
export interface DefinitionRecord {
  /** The owning tenant; '' for a shared definition every tenant can read and run. */
  tenant: string;
  name: string;
  version: number;
  definition: Record<string, unknown>;
  /** Content hash (sha256 of canonical JSON). */
  hash: string;
  createdAt: Date;
}

/** A run as stored. */
export interface RunRecord extends RunPosition {
  id: string;
  /** The tenant the run belongs to: the one its StartRun acted for (`default` for an internal caller). */
  tenant: string;
  /** The tenant of the definition version the run is pinned to ('' for a shared one). */
  definitionTenant: string;
  definitionName: string;
  definitionVersion: number;
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** When the current attempt's activity times out (`meta.timeoutMs` after entering the state); null: never. */
  timeoutAt: Date | null;
  /** True once `run.finished` was published (false while running, and while a finished run's event may be lost). */
  finishedPublished: boolean;
  /**
   * The W3C `traceparent` of the StartRun call that created the run: every effect of the run is
   * published in this trace. Null when the caller had no trace (or the run predates migration 0005).
   */
  traceParent: string | null;
}

/** One transition of a run (a history row). */
export interface TransitionRecord {
  runId: string;
  /** 1 for the first transition, then +1 for each. */
  seq: number;
  fromState: string;
  toState: string;
  eventType: string;
  event: Record<string, unknown>;
  at: Date;
}

/** A run to insert. */
export interface NewRun extends RunPosition {
  id: string;
  /** The owning tenant. @default 'default' */
  tenant?: string;
  /** The tenant of the pinned definition version. @default '' (shared) */
  definitionTenant?: string;
  definitionName: string;
  definitionVersion: number;
  /** A second create in the same tenant with the same key returns the first run instead. */
  idempotencyKey?: string;
  /** When the initial state's activity times out. @default null (never) */
  timeoutAt?: Date | null;
  /** The creating call's W3C `traceparent`. @default null */
  traceParent?: string | null;
}

/** The outcome of {@link RunStore.applyToRun}. */
export type ApplyOutcome =
  | { applied: false; run: RunRecord; reason: string }
  | {
      applied: true;
      run: RunRecord;
      transition: TransitionRecord | undefined;
      /**
       * The run's whole history as of this step (fresh records on every call), when the store
       * knows it without a read: it wrote every row of it since the run was last read. Absent
       * otherwise (then `getHistory`). A function, so callers that do not need it pay nothing.
       */
      knownHistory?: () => TransitionRecord[];
    };

/** Options of {@link RunStore.listRuns}. */
export interface ListRunsQuery {
  /** At most this many, newest first (`created_at` desc, then `id` desc). */
  limit: number;
  /** Only runs of this tenant. @default every tenant's */
  tenant?: string;
  status?: RunStatus;
  /** Only runs of this definition. */
  definitionName?: string;
  /** Only runs pinned to this version (with `definitionName`). */
  definitionVersion?: number;
  /**
   * Keyset cursor: only runs that come after this run in the order, i.e. older, or as old
   * with a smaller id. A run id that does not exist yields nothing.
   */
  afterId?: string;
}

/** Options of {@link RunStore.getHistory}. */
export interface HistoryPage {
  /** Only transitions with a greater seq. @default 0 */
  afterSeq?: number;
  /** At most this many. @default all */
  limit?: number;
}

/** Where definitions and runs are kept. */
export interface RunStore {
  /**
   * Stores `definition` as the next version of `name` in `tenant` ('' when absent: shared),
   * unless that tenant's latest version has the same hash, in which case that version is
   * returned with `created: false`. Versions count per (tenant, name).
   */
  saveDefinition(name: string, definition: Record<string, unknown>, hash: string, tenant?: string): Promise<{ definition: DefinitionRecord; created: boolean }>;
  /** A version of a definition of `tenant` ('' when absent: shared); the latest when `version` is absent. */
  getDefinition(name: string, version?: number, tenant?: string): Promise<DefinitionRecord | undefined>;
  /** The latest version of every definition of the given tenants (of every tenant when absent), by name then tenant. */
  listDefinitions(tenants?: readonly string[]): Promise<DefinitionRecord[]>;
  /** Every version of one definition of `tenant` ('' when absent: shared), newest first; empty when there is none. */
  listDefinitionVersions(name: string, tenant?: string): Promise<DefinitionRecord[]>;
  /** Inserts a run, or returns the run of the same tenant that already has its idempotency key. */
  createRun(run: NewRun): Promise<{ run: RunRecord; created: boolean }>;
  /** The run, or undefined (also for an id that is not a UUID). */
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Runs newest first, filtered and paged by keyset (see {@link ListRunsQuery}). */
  listRuns(query: ListRunsQuery): Promise<RunRecord[]>;
  /** Running runs in id order after `afterId`, for resuming them page by page. */
  listRunning(afterId: string | undefined, limit: number): Promise<RunRecord[]>;
  /** How many runs are running, counting at most `cap` (then `cap`): a bounded query for metrics. */
  countRunning(cap: number): Promise<number>;
  /** The transitions of a run, by seq (a page of them with `page`). */
  getHistory(runId: string, page?: HistoryPage): Promise<TransitionRecord[]>;
  /**
   * Locks the run (`SELECT … FOR UPDATE`), calls `decide` with it, and writes the decided
   * position and transition in the same transaction. Undefined when the run does not exist.
   * `decide` must be pure: it may run again if the transaction is retried.
   */
  applyToRun(runId: string, decide: (run: RunRecord) => RunDecision): Promise<ApplyOutcome | undefined>;
  /** Running runs whose activity timeout is at or before `now`, earliest first; read without locks. */
  listTimedOut(now: Date, limit: number): Promise<RunRecord[]>;
  /**
   * Like {@link applyToRun}, for the timeout sweep: locks the run only if it is still running
   * and due at `now`, and skips it when another transaction holds it (`FOR UPDATE SKIP
   * LOCKED`), so two engine replicas never both fire the same timeout. Undefined when the run
   * was not due any more or was locked.
   */
  applyToTimedOutRun(runId: string, now: Date, decide: (run: RunRecord) => RunDecision): Promise<ApplyOutcome | undefined>;
  /**
   * Moves the activity deadline of a run that is still running and due at `now` to `until`,
   * so a run the sweep cannot handle stops being listed first; false when it was not due.
   */
  postponeTimeout(runId: string, now: Date, until: Date): Promise<boolean>;
  /** Records that the run's `run.finished` event was published. */
  markFinishedPublished(runId: string): Promise<void>;
  /**
   * Finished runs whose `run.finished` was not recorded as published, that finished (last
   * changed) within `withinMs` of the database's clock, in id order after `afterId`.
   */
  listFinishedUnpublished(withinMs: number, afterId: string | undefined, limit: number): Promise<RunRecord[]>;
}
