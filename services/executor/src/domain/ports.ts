/**
 * The ports the subtask worker depends on; adapters in `src/store` and `src/transport`
 * implement them over JetStream KV, the bus, and the router / lock-manager / memory gRPC services.
 */
import type { ChatModel, WriteGuard } from '@maestro/agent';
import type { Escalation, RecalledMemory, SubtaskResult, SubtaskWork, WorkFinishedEvent, WorkStepEvent } from '@maestro/contracts';
import type { WorkOutcome } from './escalation.js';

/**
 * Finished outcomes (results and escalations) by work id: the executor's idempotency record. A
 * work item whose outcome is stored is never run again; its outcome is only re-published.
 */
export interface WorkResultStore {
  /** The stored outcome of a work item, or undefined when it has not finished. */
  get(workId: string): Promise<WorkOutcome | undefined>;
  /** Stores a finished outcome under its work id (overwrites: the last writer's outcome wins). */
  put(outcome: WorkOutcome): Promise<void>;
}

/** Where results and work events go. */
export interface WorkPublisher {
  /** Publishes a result for the orchestrator, deduplicated on its workId. */
  publishResult(result: SubtaskResult): Promise<void>;
  /** Publishes an escalation for the orchestrator, deduplicated on its escalationId (the workId). */
  publishEscalation(escalation: Escalation): Promise<void>;
  /** Publishes one agent step and resolves once the events stream stored it (deduplicated on the step's identity); throws otherwise. */
  publishStep(event: WorkStepEvent): Promise<void>;
  /** Publishes that a subtask finished. */
  publishFinished(event: WorkFinishedEvent): Promise<void>;
}

/** A lease the worker holds on purpose (the declared concerns, the merge's git index), with its fencing token. */
export interface HeldLock {
  leaseId: string;
  concerns: readonly string[];
  /** The lock-manager's fencing token of the grant; storage checks writes against it. */
  fencingToken: number;
}

/** A lease the lock-manager granted, as reported to the worker (for the log and a step event). */
export interface LeaseGrant {
  concerns: readonly string[];
  fencingToken: number;
  /** How long the grant took, by the guard's clock (mostly waiting for conflicting leases). */
  waitedMs: number;
}

/** What a write guard tells its subtask about. */
export interface WriteGuardEvents {
  /** A lease was granted (declared concerns, a write's concerns, the merge's git index). */
  onGranted?(grant: LeaseGrant): void;
  /** The lock-manager refused to extend a held lease (`LOCK_NOT_HELD`, `FENCED`): it is gone. */
  onLost?(lock: HeldLock, error: Error): void;
}

/**
 * The lease on one work item (`resource:work/<task>/<subtask>`) held for a whole attempt, so a
 * paused executor that resumes after another redid its work stops instead of finishing it too.
 */
export interface WorkLease {
  /** Takes the lease, waiting (bounded) for an earlier holder; throws when it cannot be had. */
  acquire(): Promise<HeldLock>;
  /** Aborted when an extension is refused: the attempt must stop at once, with no outcome. */
  readonly lost: AbortSignal;
  /** Asks the lock-manager whether the lease is still current; throws when it is not. */
  confirm(): Promise<void>;
  /** Releases it; never throws. */
  release(): Promise<void>;
}

/**
 * A write guard that holds what it acquired until the subtask ends: the agent's writes
 * (`acquire`, waiting as long as the guard's policy allows), plus leases the worker takes on
 * purpose with a wait of its choosing (`hold`), checks (`confirm`) and gives back early
 * (`releaseLease`).
 */
export interface SubtaskWriteGuard extends WriteGuard {
  /**
   * Acquires `concerns` not yet held as one lease, all at once, waiting at most `waitMs` for
   * conflicting leases; held and extended until released. Throws when they cannot be had.
   */
  hold(concerns: string[], waitMs: number): Promise<HeldLock>;
  /**
   * Asks the lock-manager whether `lock` is still current (its fencing token the latest grant of
   * its concerns); throws (`LOCK_NOT_HELD`, `FENCED`) when it is not.
   */
  confirm(lock: HeldLock): Promise<void>;
  /** Releases one held lease before the subtask ends (the merge's git-index lease); never throws. */
  releaseLease(leaseId: string): Promise<void>;
  /** Releases everything acquired; never throws (leases expire anyway). */
  release(): Promise<void>;
}

/** Builds the per-subtask collaborators, which carry the subtask's ids (for accounting and lock owners). */
export interface SubtaskCollaborators {
  createModel(work: SubtaskWork): ChatModel;
  createWriteGuard(work: SubtaskWork, events?: WriteGuardEvents): SubtaskWriteGuard;
  /**
   * The work item's lease for an attempt. Without it (tests and embedded runs without a
   * lock-manager) nothing keeps a resumed, paused executor from finishing work redone elsewhere.
   */
  createWorkLease?(work: SubtaskWork): WorkLease;
}

/** What the executor asks memory before a subtask's agent starts. */
export interface MemoryRecallQuery {
  /** The task's project: its memories, and those of the project scope, apply. */
  project: string;
  /** Words of the subtask (see `toRecallQuery`); never blank. */
  query: string;
  /** Memories asked for at most. */
  limit: number;
  /** The task's tenant: only its memories apply. */
  tenant: string;
  /** Whose preferences apply besides the project's (`user:<id>`, `team:<id>`), as the task named them. */
  scopes: readonly string[];
}

/** What memory gave back for a subtask. */
export interface MemoryRecallAnswer {
  /** Best first: preferences, project context and reflexes, each with its score and why it matched. */
  memories: RecalledMemory[];
  /** Set when memory answered degraded (its embedder down: keyword search only), saying why. */
  warning?: string;
}

/**
 * The memory service, as the executor uses it: the memories that apply to a subtask. A memory
 * outage costs the subtask its notes, never the subtask: callers treat a throw as "no memories".
 */
export interface MemoryRecall {
  /** Throws when memory cannot answer within `deadlineMs` (unreachable, slow, refusing) or `signal` aborts. */
  recall(query: MemoryRecallQuery, options: { deadlineMs: number; signal?: AbortSignal }): Promise<MemoryRecallAnswer>;
}
