/**
 * The executor's outbox of `work.step` events: every step a subtask takes is queued here, in
 * order, and published one at a time with the stream's ack; a step that cannot be published
 * (NATS down or restarting) stays at the head and is retried with backoff on the injected clock
 * until it is. The agent never waits for NATS; the worker waits (`flushed`) before it records a
 * work item's outcome, so a subtask's history is complete when the subtask ends.
 *
 * Bounded: past `capacity` queued steps the oldest queued one is dropped and the drop is logged
 * at error with its counts (see the README, *Step history*, for why that is the policy).
 */
import { exponentialBackoff, type Clock, type Logger } from '@maestro/runtime';
import type { WorkStepEvent } from '@maestro/contracts';
import type { WorkPublisher } from '../domain/ports.js';

/** Defaults of {@link StepOutboxOptions}, in one place. */
export const StepOutboxDefaults = {
  /** Steps queued at most (besides the one being sent); about 10 000 × ≤ 2 KB ≈ 20 MB at worst. */
  capacity: 10_000,
  /** Pause after the first failed publish. */
  retryBaseMs: 250,
  /** Longest pause between publishes of a step that keeps failing. */
  retryMaxMs: 10_000,
} as const;

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
}

/** One queued step and the work item it belongs to. */
interface OutboxEntry {
  workId: string;
  event: WorkStepEvent;
}

/** What a caller can read of the outbox (for logs and tests). */
export interface StepOutboxCounts {
  /** Steps waiting, the one being sent included. */
  pending: number;
  published: number;
  /** Steps dropped because the outbox was full, since start. */
  dropped: number;
}

/** Failed publishes of one step logged at warn: the first, then every this many. */
const WARN_EVERY_ATTEMPTS = 10;

/** A bounded, ordered, retrying queue of step events shared by every work item of the process. */
export class StepOutbox {
  private readonly queue: OutboxEntry[] = [];
  private inFlight: OutboxEntry | undefined;
  private readonly pendingByWork = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly stopping = new AbortController();
  private readonly capacity: number;
  private readonly backoff: (attempt: number) => number;
  private sending = false;
  private published = 0;
  private dropped = 0;

  constructor(private readonly options: StepOutboxOptions) {
    this.capacity = options.capacity ?? StepOutboxDefaults.capacity;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError(`step outbox capacity must be a positive integer, got ${this.capacity}`);
    this.backoff = exponentialBackoff({
      baseMs: options.retryBaseMs ?? StepOutboxDefaults.retryBaseMs,
      maxMs: options.retryMaxMs ?? StepOutboxDefaults.retryMaxMs,
    });
  }

  /** Queues a step of `workId` behind every step queued before it and starts sending if idle. */
  enqueue(workId: string, event: WorkStepEvent): void {
    if (this.stopping.signal.aborted) {
      this.options.logger.error('work step event not queued: the step outbox is closed', { taskId: event.taskId, subtaskId: event.subtaskId, step: event.step });
      return;
    }
    if (this.queue.length >= this.capacity) this.dropOldest();
    this.queue.push({ workId, event });
    this.pendingByWork.set(workId, (this.pendingByWork.get(workId) ?? 0) + 1);
    if (!this.sending) void this.send();
  }

  /**
   * Resolves once no step of `workId` is waiting (all published, or dropped and logged). Rejects
   * with the signal's reason when `signal` aborts first (the outbox keeps the steps).
   */
  flushed(workId: string, signal?: AbortSignal): Promise<void> {
    if ((this.pendingByWork.get(workId) ?? 0) === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiters = this.waiters.get(workId) ?? new Set<() => void>();
      const onAbort = (): void => {
        waiters.delete(done);
        reject(signal!.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      waiters.add(done);
      this.waiters.set(workId, waiters);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** How many steps wait, were published and were dropped. */
  counts(): StepOutboxCounts {
    return { pending: this.queue.length + (this.inFlight !== undefined ? 1 : 0), published: this.published, dropped: this.dropped };
  }

  /**
   * Stops retrying (shutdown): a step still queued then is lost with the process, and said so
   * at error. Steps of finished work are never among them: their outcome waited for them.
   */
  close(): void {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort(new Error('step outbox closed'));
    const { pending } = this.counts();
    if (pending > 0) this.options.logger.error('step outbox closed with steps unpublished; they are lost', { pending, dropped: this.dropped });
  }

  /** Publishes the queue's head until the queue is empty, retrying a failed head with backoff. */
  private async send(): Promise<void> {
    this.sending = true;
    let attempt = 0;
    try {
      while (!this.stopping.signal.aborted) {
        const entry = this.inFlight ?? this.queue.shift();
        if (entry === undefined) return;
        this.inFlight = entry;
        try {
          await this.options.publisher.publishStep(entry.event);
        } catch (err) {
          attempt++;
          if (attempt === 1 || attempt % WARN_EVERY_ATTEMPTS === 0) {
            this.options.logger.warn('work step event not published yet; retrying', {
              taskId: entry.event.taskId,
              subtaskId: entry.event.subtaskId,
              step: entry.event.step,
              attempt,
              pending: this.counts().pending,
              err,
            });
          }
          await this.options.clock.sleep(this.backoff(attempt), this.stopping.signal).catch(() => undefined);
          continue;
        }
        if (attempt > 0) this.options.logger.info('work step events publishing again', { attempts: attempt + 1, pending: this.counts().pending - 1 });
        attempt = 0;
        this.inFlight = undefined;
        this.published++;
        this.settled(entry.workId);
      }
    } finally {
      this.sending = false;
    }
  }

  /** The oldest queued step (never the one being sent) makes room; the drop is logged with counts. */
  private dropOldest(): void {
    const oldest = this.queue.shift();
    if (oldest === undefined) return;
    this.dropped++;
    this.options.logger.error('step outbox full; oldest work step event dropped', {
      taskId: oldest.event.taskId,
      subtaskId: oldest.event.subtaskId,
      step: oldest.event.step,
      capacity: this.capacity,
      dropped: this.dropped,
      pending: this.counts().pending,
    });
    this.settled(oldest.workId);
  }

  /** One step of `workId` left the outbox; its flush waiters resolve when it was the last. */
  private settled(workId: string): void {
    const left = (this.pendingByWork.get(workId) ?? 1) - 1;
    if (left > 0) {
      this.pendingByWork.set(workId, left);
      return;
    }
    this.pendingByWork.delete(workId);
    const waiters = this.waiters.get(workId);
    this.waiters.delete(workId);
    for (const done of waiters ?? []) done();
  }
}
