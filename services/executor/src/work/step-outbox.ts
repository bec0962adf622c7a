/**
 * The executor's outbox of `work.step` events: every step a subtask takes is queued here and
 * published with the stream's ack, **in order per work item and independently across work
 * items**: each work item has its own lane, so one item's failing step never holds back
 * another's. A step that cannot be published yet (NATS down or restarting) stays at its lane's
 * head and is retried with backoff on the injected clock; one that never can (a permanent error,
 * see {@link isPermanentPublishError}) or still fails after `maxAttempts` is dropped, said at
 * error and counted, so a work item's finish is never held for ever. The agent never waits for
 * NATS; the worker waits (`flushed`) before it records a work item's outcome, so a subtask's
 * history is complete when the subtask ends.
 *
 * Each step is published in the trace context it was queued in, not that of whichever call
 * started its lane's sender, so its span and `traceparent` header belong to its own task.
 *
 * Bounded: past `capacity` waiting steps the oldest one not being sent is dropped and the drop is
 * logged at error with its counts (see the README, *Step history*, for why that is the policy).
 */
import { activeTraceContext, exponentialBackoff, withTraceContext, type Clock, type Context, type Logger } from '@maestro/runtime';
import type { WorkStepEvent } from '@maestro/contracts';
import type { WorkPublisher } from '../domain/ports.js';
import { isPermanentPublishError } from '@maestro/bus';

/** Defaults of {@link StepOutboxOptions}, in one place. */
export const StepOutboxDefaults = {
  /** Steps waiting at most (besides each work item's one being sent); about 10 000 × ≤ 2 KB ≈ 20 MB at worst. */
  capacity: 10_000,
  /** Pause after the first failed publish. */
  retryBaseMs: 250,
  /** Longest pause between publishes of a step that keeps failing. */
  retryMaxMs: 10_000,
  /**
   * Publishes tried per step before it is dropped. With the pauses above the last try comes
   * about 4 minutes (plus each try's own timeout) after the first: a NATS restart is ridden
   * out, and a step that never goes through holds its work item's outcome no longer than that.
   */
  maxAttempts: 30,
} as const;

/** Why a step left the outbox without being published. */
export const StepDropReasons = {
  /** The outbox was full and this was the oldest step waiting. */
  full: 'full',
  /** Publishing it failed in a way no retry fixes (a bug, a payload over `max_payload`). */
  permanent: 'permanent',
  /** Publishing it failed `maxAttempts` times. */
  attempts: 'attempts',
} as const;
export type StepDropReason = (typeof StepDropReasons)[keyof typeof StepDropReasons];

/** Options for {@link StepOutbox}. */
export interface StepOutboxOptions {
  publisher: Pick<WorkPublisher, 'publishStep'>;
  clock: Clock;
  logger: Logger;
  /** @default StepOutboxDefaults.capacity */
  capacity?: number;
  /** @default StepOutboxDefaults.retryBaseMs */
  retryBaseMs?: number;
  /** @default StepOutboxDefaults.retryMaxMs */
  retryMaxMs?: number;
  /** @default StepOutboxDefaults.maxAttempts */
  maxAttempts?: number;
  /** Told of every dropped step (the executor counts them in its metrics). @default nobody */
  onDropped?: (reason: StepDropReason) => void;
}

/** One queued step, the work item it belongs to and the trace context it was queued in. */
interface OutboxEntry {
  event: WorkStepEvent;
  trace: Context;
  /** Queue order over every lane, so "the oldest waiting step" has one answer. */
  seq: number;
}

/** One work item's steps, published one after the other; the head is the one being sent. */
interface Lane {
  readonly entries: OutboxEntry[];
  readonly waiters: Set<() => void>;
}

/** What a caller can read of the outbox (for logs and tests). */
export interface StepOutboxCounts {
  /** Steps waiting, the ones being sent included. */
  pending: number;
  published: number;
  /** Steps dropped since start, whatever the reason. */
  dropped: number;
}

/** Failed publishes of one step logged at warn: the first, then every this many. */
const WARN_EVERY_ATTEMPTS = 10;

/** A bounded, retrying queue of step events, ordered per work item, shared by every work item of the process. */
export class StepOutbox {
  private readonly lanes = new Map<string, Lane>();
  private readonly stopping = new AbortController();
  private readonly capacity: number;
  private readonly maxAttempts: number;
  private readonly backoff: (attempt: number) => number;
  private nextSeq = 0;
  private pending = 0;
  private published = 0;
  private dropped = 0;

  constructor(private readonly options: StepOutboxOptions) {
    this.capacity = positiveInteger('capacity', options.capacity ?? StepOutboxDefaults.capacity);
    this.maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? StepOutboxDefaults.maxAttempts);
    this.backoff = exponentialBackoff({
      baseMs: options.retryBaseMs ?? StepOutboxDefaults.retryBaseMs,
      maxMs: options.retryMaxMs ?? StepOutboxDefaults.retryMaxMs,
    });
  }

  /** Queues a step of `workId` behind that item's earlier steps, in the caller's trace context, and starts its lane if idle. */
  enqueue(workId: string, event: WorkStepEvent): void {
    if (this.stopping.signal.aborted) {
      this.options.logger.error('work step event not queued: the step outbox is closed', { taskId: event.taskId, subtaskId: event.subtaskId, step: event.step });
      return;
    }
    if (this.pending - this.lanes.size >= this.capacity) this.dropOldest();
    const entry: OutboxEntry = { event, trace: activeTraceContext(), seq: this.nextSeq++ };
    this.pending++;
    const lane = this.lanes.get(workId);
    if (lane !== undefined) {
      lane.entries.push(entry);
      return;
    }
    const fresh: Lane = { entries: [entry], waiters: new Set() };
    this.lanes.set(workId, fresh);
    this.send(workId, fresh).catch((err: unknown) => this.options.logger.error('step outbox sender failed', { workId, err }));
  }

  /**
   * Resolves once no step of `workId` is waiting (all published, or dropped and logged). Rejects
   * with the signal's reason when `signal` aborts first (the outbox keeps the steps).
   */
  flushed(workId: string, signal?: AbortSignal): Promise<void> {
    const lane = this.lanes.get(workId);
    if (lane === undefined) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        lane.waiters.delete(done);
        reject(signal!.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      lane.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** How many steps wait, were published and were dropped. */
  counts(): StepOutboxCounts {
    return { pending: this.pending, published: this.published, dropped: this.dropped };
  }

  /**
   * Stops retrying (shutdown): a step still queued then is lost with the process, and said so
   * at error. Steps of finished work are never among them: their outcome waited for them.
   */
  close(): void {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort(new Error('step outbox closed'));
    if (this.pending > 0) this.options.logger.error('step outbox closed with steps unpublished; they are lost', { pending: this.pending, dropped: this.dropped });
  }

  /**
   * Publishes one lane's steps in order until it is empty: a failed head is retried with
   * backoff, or dropped when the failure is permanent or it ran out of attempts.
   */
  private async send(workId: string, lane: Lane): Promise<void> {
    let attempt = 0;
    while (!this.stopping.signal.aborted) {
      const head = lane.entries[0];
      if (head === undefined) return;
      try {
        await withTraceContext(head.trace, () => this.options.publisher.publishStep(head.event));
      } catch (err) {
        attempt++;
        const dropReason = isPermanentPublishError(err) ? StepDropReasons.permanent : attempt >= this.maxAttempts ? StepDropReasons.attempts : undefined;
        if (dropReason !== undefined) {
          lane.entries.shift();
          this.drop(head.event, dropReason, { attempts: attempt, err });
          attempt = 0;
          if (this.leaveIfEmpty(workId, lane)) return;
          continue;
        }
        if (attempt === 1 || attempt % WARN_EVERY_ATTEMPTS === 0) {
          this.options.logger.warn('work step event not published yet; retrying', { ...stepFields(head.event), attempt, pending: this.pending, err });
        }
        await this.options.clock.sleep(this.backoff(attempt), this.stopping.signal).catch(() => undefined);
        continue;
      }
      if (attempt > 0) this.options.logger.info('work step events publishing again', { workId, attempts: attempt + 1, pending: this.pending - 1 });
      attempt = 0;
      lane.entries.shift();
      this.pending--;
      this.published++;
      if (this.leaveIfEmpty(workId, lane)) return;
    }
  }

  /** The oldest waiting step of any lane (never a lane's head, which is being sent) makes room. */
  private dropOldest(): void {
    let oldest: Lane | undefined;
    for (const lane of this.lanes.values()) {
      const candidate = lane.entries[1];
      if (candidate !== undefined && (oldest === undefined || candidate.seq < oldest.entries[1]!.seq)) oldest = lane;
    }
    const [entry] = oldest?.entries.splice(1, 1) ?? [];
    if (entry !== undefined) this.drop(entry.event, StepDropReasons.full, { capacity: this.capacity });
  }

  /** Counts, reports and logs a step that leaves without being published. */
  private drop(event: WorkStepEvent, reason: StepDropReason, fields: Record<string, unknown>): void {
    this.pending--;
    this.dropped++;
    this.options.onDropped?.(reason);
    const message = reason === StepDropReasons.full ? 'step outbox full; oldest work step event dropped' : 'work step event dropped: it cannot be published';
    this.options.logger.error(message, { ...stepFields(event), reason, ...fields, dropped: this.dropped, pending: this.pending });
  }

  /** Removes an emptied lane and resolves its flush waiters; false while the lane has steps. */
  private leaveIfEmpty(workId: string, lane: Lane): boolean {
    if (lane.entries.length > 0) return false;
    this.lanes.delete(workId);
    for (const done of lane.waiters) done();
    return true;
  }
}

/** The fields that name a step in log lines. */
function stepFields(event: WorkStepEvent): { taskId: string; subtaskId: string; step: number } {
  return { taskId: event.taskId, subtaskId: event.subtaskId, step: event.step };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`step outbox ${name} must be a positive integer, got ${value}`);
  return value;
}
