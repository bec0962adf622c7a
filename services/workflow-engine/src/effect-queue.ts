/**
 * Publishes the effects of committed steps (activity requests, run events), **in order per
 * run and in parallel across runs**: each key (a run id) has its own lane, so one run's
 * effects never wait for another's publishes, and a run whose publish keeps failing holds back
 * only its own later effects. Within a lane, the effects of one `enqueue` call (one committed
 * step: its `run.transitioned`, `run.finished`, activity request) are **published together**:
 * issued in order at once, their acks awaited together, so a step costs one publish round trip
 * instead of one per effect; the next call's effects go out only once all of them are acked.
 * A step has at most one effect per subject, so per run and subject the order always holds;
 * across subjects of one step it holds in the healthy case (issued in order on one
 * connection), and when one of them fails, the others may be stored before its retry.
 * A lane retries a failed publish until it succeeds, unless the
 * failure is permanent (see {@link isPermanentPublishError}): such an effect is dropped so it
 * cannot block the ones behind it. The database commit is the truth; publishing after it can
 * fail (NATS away), and this queue keeps trying in the background instead of leaving a run
 * waiting for a request nobody sent. A crash loses the queue; the engine's start-up resume
 * re-publishes every pending activity request, and every effect has a deterministic message id,
 * so JetStream drops the copies that did get through.
 */
import { context, type Context } from '@opentelemetry/api';
import { isPermanentPublishError } from '@maestro/bus';
import { exponentialBackoff, type Clock, type Logger } from '@maestro/runtime';

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

/** What the queue reports about its publishes (the engine's metrics implement it). */
export interface EffectQueueObserver {
  /** A publish succeeded after `seconds` (this attempt only). */
  published(seconds: number): void;
  /** A publish failed transiently and will be retried. */
  retried(): void;
  /** An effect was dropped: failed permanently, or the engine stopped first. */
  dropped(reason: 'permanent' | 'stopping'): void;
}

/** Options of {@link EffectQueue}. */
export interface EffectQueueOptions {
  logger: Logger;
  clock: Clock;
  /** Delay before the n-th retry of a failing effect. @default 200ms·2^(n-1), at most 10s */
  backoffMs?: (failures: number) => number;
  /** Told about every publish (latency, retries, drops). @default none */
  observer?: EffectQueueObserver;
}

interface Queued {
  effect: Effect;
  /**
   * The trace context of the call that enqueued the effect. A lane's drain loop runs in the
   * context of whichever call started it, so without this every later effect of the run would
   * be published (and its `traceparent` header written) under the first caller's trace.
   */
  trace: Context;
  /** Resolved after the first attempt, whatever its outcome (idempotent). */
  attempted: () => void;
  /** The enqueue call it came with: effects of one call are published together. */
  batch: number;
}

/** One key's effects, published one after the other. */
interface Lane {
  queue: Queued[];
  draining?: Promise<void>;
  /** True while the head has failed and waits for its retry. */
  failing: boolean;
  /** Ends the backoff wait early (stop). */
  wake: () => void;
}

const defaultBackoff = exponentialBackoff({ baseMs: 200, maxMs: 10_000 });
const noObserver: EffectQueueObserver = { published: () => undefined, retried: () => undefined, dropped: () => undefined };

/** A retrying publisher of effects, in order per key (run), concurrent across keys. */
export class EffectQueue {
  private readonly lanes = new Map<string, Lane>();
  private nextBatch = 0;
  private stopped = false;
  private readonly handlers = new Set<Promise<void>>();
  private readonly backoff: (failures: number) => number;
  private readonly observer: EffectQueueObserver;

  constructor(private readonly options: EffectQueueOptions) {
    this.backoff = options.backoffMs ?? defaultBackoff;
    this.observer = options.observer ?? noObserver;
  }

  /** Effects waiting to be published, over all keys (including ones being retried). */
  get pending(): number {
    let count = 0;
    for (const lane of this.lanes.values()) count += lane.queue.length;
    return count;
  }

  /** Keys with effects waiting (runs whose publishes are in flight or being retried). */
  get activeKeys(): number {
    return this.lanes.size;
  }

  /**
   * Queues effects behind the earlier ones of the same `key` and resolves once each has been
   * tried once (so, in the healthy case, when they are published). While the key's lane is
   * stuck retrying an earlier failure it resolves at once: the caller's commit stands, and the
   * effects follow when NATS is back. Other keys are not held up by this one.
   */
  enqueue(key: string, effects: Effect[]): Promise<void> {
    if (this.stopped) {
      for (const effect of effects) this.dropOnStop(effect);
      return Promise.resolve();
    }
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = { queue: [], failing: false, wake: () => undefined };
      this.lanes.set(key, lane);
    }
    const trace = context.active();
    const batch = this.nextBatch++;
    const attempts = effects.map((effect) => new Promise<void>((resolve) => lane.queue.push({ effect, trace, attempted: resolve, batch })));
    const waitFor = lane.failing ? Promise.resolve() : Promise.all(attempts).then(() => undefined);
    if (lane.draining === undefined) this.startDrain(key, lane);
    return waitFor;
  }

  private startDrain(key: string, lane: Lane): void {
    lane.draining = this.drain(key, lane).finally(() => {
      lane.draining = undefined;
      // An enqueue between the loop's end and this callback found the lane still draining.
      if (lane.queue.length > 0 && !this.stopped) this.startDrain(key, lane);
      // Empty lanes go, so the map holds only runs with something to publish.
      else if (lane.queue.length === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
    });
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    let failures = 0;
    while (lane.queue.length > 0 && !this.stopped) {
      // The head batch: the effects one enqueue call queued (or what is left of them after a
      // failure), published together; what was enqueued later waits until they are all out.
      const batch = lane.queue[0]!.batch;
      let size = 1;
      while (size < lane.queue.length && lane.queue[size]!.batch === batch) size++;
      const heads = lane.queue.slice(0, size);
      const started = this.options.clock.now();
      // Issued one after the other in this tick, so in the healthy case they are stored in
      // order too; only their acks are awaited together.
      const outcomes = await Promise.allSettled(heads.map((head) => context.with(head.trace, () => head.effect.publish())));
      const seconds = (this.options.clock.now() - started) / 1000;
      const retry: Queued[] = [];
      let firstError: unknown;
      outcomes.forEach((outcome, i) => {
        const head = heads[i]!;
        if (outcome.status === 'fulfilled') {
          this.observer.published(seconds);
          head.attempted();
          if (failures > 0) this.options.logger.info('effect published after retries', { key, effect: head.effect.description, failures });
        } else if (isPermanentPublishError(outcome.reason)) {
          this.drop(head, outcome.reason, failures);
        } else {
          retry.push(head);
          firstError ??= outcome.reason;
        }
      });
      lane.queue.splice(0, size, ...retry);
      if (retry.length === 0) {
        failures = 0;
        lane.failing = false;
        continue;
      }
      failures++;
      lane.failing = true;
      for (let i = 0; i < retry.length; i++) this.observer.retried();
      // Everything in this lane has had its "first attempt" now, in the sense the caller cares
      // about: it will not be published before the failure clears.
      for (const queued of lane.queue) queued.attempted();
      this.options.logger.warn('effect publish failed; will retry', {
        key,
        effects: retry.map((queued) => queued.effect.description),
        failures,
        err: firstError instanceof Error ? firstError.message : String(firstError),
      });
      // stop() wakes the wait early rather than sitting out a long backoff.
      await Promise.race([this.options.clock.sleep(this.backoff(failures)), new Promise<void>((resolve) => (lane.wake = resolve))]);
    }
  }

  /** Drops an effect that can never be published, and lets its owner know. */
  private drop(head: Queued, err: unknown, failures: number): void {
    head.attempted();
    this.observer.dropped('permanent');
    this.options.logger.error('effect publish failed permanently; dropped', {
      effect: head.effect.description,
      failures,
      err: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    const onPermanentFailure = head.effect.onPermanentFailure;
    if (onPermanentFailure === undefined) return;
    // Not awaited: the handler may enqueue effects (failing a run publishes its transition),
    // which would wait for this very lane.
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

  private dropOnStop(effect: Effect): void {
    this.observer.dropped('stopping');
    this.options.logger.warn('effect dropped: engine stopping', { effect: effect.description });
  }

  /** Resolves once every permanent-failure handler started so far has finished (for tests and stop). */
  async settled(): Promise<void> {
    while (this.handlers.size > 0) await Promise.all([...this.handlers]);
  }

  /** Stops retrying; what is still queued is dropped (and logged). Waits for publishes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    const lanes = [...this.lanes.values()];
    for (const lane of lanes) lane.wake();
    await Promise.all(lanes.map((lane) => lane.draining));
    await this.settled();
    for (const lane of lanes) {
      for (const queued of lane.queue.splice(0)) {
        queued.attempted();
        this.dropOnStop(queued.effect);
      }
    }
    this.lanes.clear();
  }
}
