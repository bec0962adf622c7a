/**
 * One attempt of a coding subtask around the agent: the write guard (its grants reported as
 * steps), the attempt's own worktree of the task branch, the agent and merge rounds in it, and
 * the ending whatever it is: the worktree removed, unfinished work kept for the next attempt
 * (unless the task ended), every lease released. Errors are sorted here: the task's end gives
 * a stopped result, shutdown or a lost work lease a hand-back, a transient failure is rethrown (nak), anything else
 * becomes a failed result.
 */
import type { SubtaskWork } from '@maestro/contracts';
import { OperationalError, UserError, toMaestroError, type Logger } from '@maestro/runtime';
import type { FinalTaskStatus } from '../domain/ended-tasks.js';
import { resultOf, type WorkOutcome } from '../domain/escalation.js';
import type { SubtaskCollaborators, WorkLease } from '../domain/ports.js';
import { toFailedResult } from '../domain/subtask-result.js';
import { toStoppedResult } from '../domain/task-end-results.js';
import type { SubtaskWorktree } from '../store/worktree-manager.js';
import { runAgentMergeRounds, type AgentRoundsSettings } from './agent-merge-rounds.js';
import type { StepReporter } from './step-reporter.js';
import { handedBack, type WorkDelivery } from './work-delivery.js';

/** The hand-back of an attempt whose work lease was lost: not acked as done, never a result. */
function lostLease(cause: unknown) {
  return handedBack(cause, 'the work lease was lost (this executor was paused or cut off past its TTL); stopped without an outcome');
}

/** What every attempt of this executor shares. */
export interface WorktreeAttemptSettings extends AgentRoundsSettings {
  createWriteGuard: SubtaskCollaborators['createWriteGuard'];
}

/** One delivery's attempt. */
export interface WorktreeAttemptRequest {
  work: SubtaskWork;
  delivery: WorkDelivery;
  /** Aborted by shutdown or the task's end. */
  signal: AbortSignal;
  endedStatus(): FinalTaskStatus | undefined;
  /** The work item's lease, already held; losing it stops the attempt with a hand-back and no outcome. */
  lease?: WorkLease;
  steps: StepReporter;
  log: Logger;
}

/**
 * Runs the attempt in its own worktree and returns its outcome; the worktree is removed whatever
 * the ending. `endedStatus` tells which of shutdown and the task's end stopped it: the task's end
 * gives a failed result, shutdown a hand-back.
 */
export async function runWorktreeAttempt(settings: WorktreeAttemptSettings, request: WorktreeAttemptRequest): Promise<WorkOutcome> {
  const { work, delivery, signal, endedStatus, lease, steps, log } = request;
  // Lost: an extension was refused, or the lock-manager said so when asked before the merge.
  let leaseRefused = false;
  const leaseLost = (): boolean => leaseRefused || lease?.lost.aborted === true;
  const guard = settings.createWriteGuard(work, {
    onGranted: (grant) => {
      log.info('lease granted', { concerns: grant.concerns, fencingToken: grant.fencingToken, waitedMs: grant.waitedMs });
      void steps.report({ kind: 'tool', tool: 'locks', summary: `locked ${grant.concerns.join(', ')} (fencing token ${grant.fencingToken}) after waiting ${grant.waitedMs} ms`, ok: true });
    },
  });
  const assertMayContinue = (): void => {
    if (leaseLost()) throw lostLease(lease?.lost.reason);
    if (delivery.signal?.aborted) throw handedBack(undefined);
  };
  let worktree: SubtaskWorktree | undefined;
  let keepUnfinished = false;
  try {
    try {
      worktree = await settings.worktrees.open(work, log);
    } catch (err) {
      const error = toMaestroError(err);
      if (error instanceof OperationalError) throw error;
      log.warn('worktree not created; subtask cannot run', { err: error });
      return toFailedResult(work, `worktree not created (${error.code}): ${error.message}`, settings.origin());
    }
    keepUnfinished = true;
    const confirmWorkLease = async (): Promise<void> => {
      assertMayContinue();
      try {
        await lease?.confirm();
      } catch (err) {
        if (!(toMaestroError(err) instanceof UserError)) throw err;
        leaseRefused = true;
        throw lostLease(err);
      }
    };
    const outcome = await runAgentMergeRounds(settings, { work, worktree, guard, signal, endedStatus, assertMayContinue, confirmWorkLease, steps, log });
    keepUnfinished = !resultOf(outcome).ok;
    return outcome;
  } catch (err) {
    if (leaseLost()) {
      // Another attempt owns the subtask now: no outcome, nothing carried over its work.
      keepUnfinished = false;
      throw lostLease(err);
    }
    const status = endedStatus();
    if (status !== undefined) {
      keepUnfinished = false;
      log.info('task ended while the subtask ran; stopped it', { status });
      return toStoppedResult(work, status, settings.origin());
    }
    if (delivery.signal?.aborted) throw handedBack(err);
    const error = toMaestroError(err);
    if (error instanceof OperationalError) {
      log.warn('subtask hit a transient failure; handing it back for redelivery', { code: error.code, err: error });
      throw error;
    }
    log.error('agent loop failed', { code: error.code, err: error });
    return { ...toFailedResult(work, `agent loop error (${error.code}): ${error.message}`, settings.origin()), ...(worktree ? { worktree: worktree.path } : {}) };
  } finally {
    if (worktree !== undefined) {
      // A task that ended keeps nothing: nobody will attempt the subtask again.
      if (keepUnfinished && endedStatus() === undefined) await settings.worktrees.keepUnfinished(worktree, work, log);
      await settings.worktrees.close(worktree, log);
    }
    await guard.release();
  }
}
