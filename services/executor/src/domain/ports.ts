/**
 * The ports the subtask worker depends on; adapters in `src/adapters` and `src/transport`
 * implement them over JetStream KV, the bus, and the router / lock-manager gRPC services.
 */
import type { ChatModel, WriteGuard } from '@maestro/agent';
import type { Escalation, SubtaskResult, SubtaskWork, WorkFinishedEvent, WorkStepEvent } from '@maestro/contracts';
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
  /** Publishes one agent step for live watchers. */
  publishStep(event: WorkStepEvent): Promise<void>;
  /** Publishes that a subtask finished. */
  publishFinished(event: WorkFinishedEvent): Promise<void>;
}

/** A write guard that holds what it acquired until the subtask ends. */
export interface SubtaskWriteGuard extends WriteGuard {
  /** Releases everything acquired; never throws (leases expire anyway). */
  release(): Promise<void>;
}

/** Builds the per-subtask collaborators, which carry the subtask's ids (for accounting and lock owners). */
export interface SubtaskCollaborators {
  createModel(work: SubtaskWork): ChatModel;
  createWriteGuard(work: SubtaskWork): SubtaskWriteGuard;
}
