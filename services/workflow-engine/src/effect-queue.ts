/**
 * Publishes the effects of committed steps (activity requests, run events) in order, retrying
 * a failed publish until it succeeds, unless the failure is permanent (see
 * {@link isPermanentPublishError}): such an effect is dropped so it cannot block the ones behind it. The database commit is the truth; publishing after it
 * can fail (NATS away), and this queue keeps trying in the background instead of leaving a run
 * waiting for a request nobody sent. A crash loses the queue; the engine's start-up resume
 * re-publishes every pending activity request, and every effect has a deterministic message id,
 * so JetStream drops the copies that did get through.
 */
import { context, type Context } from '@opentelemetry/api';
import { exponentialBackoff, OperationalError, type Clock, type Logger } from '@maestro/runtime';

/** One publish to make, with a name for logs. */
export interface Effect {
  /** For logs: `activity request <workId>`, `run.transitioned <runId>#3`. */
  description: string;
  publish(): Promise<void>;
  /**
   * Called (not awaited by the queue) when the publish failed permanently and the effect was
   * dropped, e.g. to fail the run that waits for it. Must not wait for the queue itself.
   */
  onPermanentFailure?(err: unknown): Promise<void>;
}

/**
 * Whether a publish failure can never succeed on retry: anything that is not an
 * OperationalError (a bug, a payload that fails its schema) and a message larger than the
 * server's max_payload (wrapped in an OperationalError by the bus, but the same every time).
 */
export function isPermanentPublishError(err: unknown): boolean {
  if (!(err instanceof OperationalError)) return true;
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (/max_payload|max payload/i.test(cause.message)) return true;
  }
  return false;
}

/** Options of {@link EffectQueue}. */
export interface EffectQueueOptions {
  logger: Logger;
  clock: Clock;
  /** Delay before the n-th retry of a failing effect. @default 200ms·2^(n-1), at most 10s */
  backoffMs?: (failures: number) => number;
}

interface Queued {
  effect: Effect;
  /**
   * The trace context of the call that enqueued the effect. The drain loop runs in the context
   * of whichever call started it, so without this every later effect would be published (and
   * its `traceparent` header written) under the first caller's trace.
   */
  trace: Context;
  /** Resolved after the first attempt, whatever its outcome. */
  attempted: () => void;
}

const defaultBackoff = exponentialBackoff({ baseMs: 200, maxMs: 10_000 });

/** An in-order, retrying publisher of effects. */
export class EffectQueue {
  private readonly queue: Queued[] = [];
  private draining: Promise<void> | undefined;
  private failing = false;
  private stopped = false;
  private wake: () => void = () => undefined;
  private readonly handlers = new Set<Promise<void>>();
  private readonly backoff: (failures: number) => number;

  constructor(private readonly options: EffectQueueOptions) {
    this.backoff = options.backoffMs ?? defaultBackoff;
  }

  /** Effects waiting to be published (including one being retried). */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues effects and resolves once each has been tried once (so, in the healthy case, when
   * they are published). While the queue is stuck retrying an earlier failure it resolves at
   * once: the caller's commit stands, and the effects follow when NATS is back.
   */
  enqueue(effects: Effect[]): Promise<void> {
    if (this.stopped) {
      for (const effect of effects) this.options.logger.warn('effect dropped: engine stopping', { effect: effect.description });
      return Promise.resolve();
    }
    const trace = context.active();
    const attempts = effects.map(
      (effect) =>
        new Promise<void>((resolve) => {
          this.queue.push({ effect, trace, attempted: resolve });
        }),
    );
    const waitFor = this.failing ? Promise.resolve() : Promise.all(attempts).then(() => undefined);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return waitFor;
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0]!;
      try {
        await context.with(head.trace, () => head.effect.publish());
        this.queue.shift();
        head.attempted();
        if (failures > 0) this.options.logger.info('effect published after retries', { effect: head.effect.description, failures });
        failures = 0;
        this.failing = false;
      } catch (err) {
        if (isPermanentPublishError(err)) {
          this.drop(head, err, failures);
          failures = 0;
          this.failing = false;
          continue;
        }
        failures++;
        this.failing = true;
        head.attempted();
        // Everything behind the failing effect has had its "first attempt" too, in the sense the
        // caller cares about: it will not be published before the failure clears.
        for (const queued of this.queue) queued.attempted();
        this.options.logger.warn('effect publish failed; will retry', {
          effect: head.effect.description,
          failures,
          err: err instanceof Error ? err.message : String(err),
        });
        // stop() wakes the wait early rather than sitting out a long backoff.
        await Promise.race([this.options.clock.sleep(this.backoff(failures)), new Promise<void>((resolve) => (this.wake = resolve))]);
      }
    }
  }

  /** Drops an effect that can never be published, and lets its owner know. */
  private drop(head: Queued, err: unknown, failures: number): void {
    this.queue.shift();
    head.attempted();
    this.options.logger.error('effect publish failed permanently; dropped', {
      effect: head.effect.description,
      failures,
      err: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    const onPermanentFailure = head.effect.onPermanentFailure;
    if (onPermanentFailure === undefined) return;
    // Not awaited: the handler may enqueue effects (failing a run publishes its transition),
    // which would wait for this very drain loop.
    const handled = context
      .with(head.trace, () => onPermanentFailure.call(head.effect, err))
      .catch((handlerErr: unknown) => {
        this.options.logger.error('handling a permanently failed effect failed', {
          effect: head.effect.description,
          err: handlerErr instanceof Error ? handlerErr.message : String(handlerErr),
        });
      })
      .finally(() => this.handlers.delete(handled));
    this.handlers.add(handled);
  }

  /** Resolves once every permanent-failure handler started so far has finished (for tests and stop). */
  async settled(): Promise<void> {
    while (this.handlers.size > 0) await Promise.all([...this.handlers]);
  }

  /** Stops retrying; what is still queued is dropped (and logged). Waits for a publish in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.draining;
    await this.settled();
    for (const queued of this.queue.splice(0)) {
      queued.attempted();
      this.options.logger.warn('effect dropped: engine stopping', { effect: queued.effect.description });
    }
  }
}
