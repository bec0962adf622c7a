/**
 * The timeout sweep: every `intervalMs` it fails (`activity.failed`, code ACTIVITY_TIMEOUT) the
 * current attempt of every running run whose activity deadline has passed by the injected
 * clock, through the same one-transaction step as a result. Safe on several replicas at once:
 * each run is taken with `FOR UPDATE SKIP LOCKED` and re-checked under the lock. A due run it
 * cannot handle is pushed back `retryDelayMs`, so it does not stay first in line and starve
 * the others.
 */
import type { Clock, Logger } from '@maestro/runtime';
import { decideTimeout, type RunnableDefinition } from './domain/index.js';
import type { RunRecord, RunStore, TransitionRecord } from './store/run-store.js';

/** What {@link TimeoutSweep} needs. */
export interface TimeoutSweepOptions {
  store: Pick<RunStore, 'listTimedOut' | 'applyToTimedOutRun' | 'postponeTimeout'>;
  clock: Clock;
  logger: Logger;
  /** The runnable definition of a run (throws when it no longer loads). */
  runnableOf(run: RunRecord): Promise<RunnableDefinition>;
  /** Publishes and notifies what a committed timeout step changed. */
  committed(run: RunRecord, transition: TransitionRecord | undefined, runnable: RunnableDefinition, startedAt: number): Promise<void>;
  /** How often the sweep runs. @default 5000 */
  intervalMs?: number;
  /** Timed-out runs one pass handles at most per batch. @default 100 */
  batchSize?: number;
  /** How far a run the sweep failed to handle is pushed back. @default 300000 (5 min) */
  retryDelayMs?: number;
}

/** Finds and fails activities that outlived their `meta.timeoutMs`. */
export class TimeoutSweep {
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly retryDelayMs: number;
  private readonly logger: Logger;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: () => void = () => undefined;

  constructor(private readonly options: TimeoutSweepOptions) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.batchSize = options.batchSize ?? 100;
    this.retryDelayMs = options.retryDelayMs ?? 5 * 60 * 1000;
    this.logger = options.logger.child({ component: 'timeout-sweep' });
  }

  /** One pass; returns how many runs it moved. */
  async sweepOnce(): Promise<number> {
    const { store, clock } = this.options;
    let fired = 0;
    for (;;) {
      const now = new Date(clock.now());
      const due = await store.listTimedOut(now, this.batchSize);
      let moved = 0;
      for (const candidate of due) {
        if (await this.timeOut(candidate, now)) moved++;
      }
      fired += moved;
      // A full batch that made progress may have more behind it; anything else waits for the next pass.
      if (due.length < this.batchSize || moved === 0) break;
    }
    return fired;
  }

  /** Fails one due run's attempt; true when the run moved. */
  private async timeOut(candidate: RunRecord, now: Date): Promise<boolean> {
    const { store } = this.options;
    const log = this.logger.child({ runId: candidate.id, state: candidate.state, attempt: candidate.attempt });
    const startedAt = this.options.clock.now();
    try {
      const runnable = await this.options.runnableOf(candidate);
      const outcome = await store.applyToTimedOutRun(candidate.id, now, (run) => decideTimeout(run, runnable, now.getTime()));
      // Undefined: a result moved the run on meanwhile, or another replica holds it.
      if (outcome === undefined) return false;
      if (!outcome.applied) {
        log.warn('activity timed out; the state does not handle activity.failed, so the run keeps waiting', { reason: outcome.reason });
        return false;
      }
      log.warn('activity timed out', { to: outcome.run.state, status: outcome.run.status, seq: outcome.transition?.seq });
      await this.options.committed(outcome.run, outcome.transition, runnable, startedAt);
      return true;
    } catch (err) {
      const retryAt = new Date(now.getTime() + this.retryDelayMs);
      log.error('activity timeout not applied; retrying later', { err, retryAt: retryAt.toISOString() });
      try {
        await store.postponeTimeout(candidate.id, now, retryAt);
      } catch (postponeErr) {
        // The database is likely away; the sweep itself will fail next and try again.
        log.error('could not postpone a failed activity timeout', { err: postponeErr });
      }
      return false;
    }
  }

  /** Sweeps every `intervalMs` until {@link stop}; a second call does nothing. */
  start(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = (async () => {
      while (!this.stopped) {
        // stop() wakes the wait early rather than sitting out the interval.
        await Promise.race([this.options.clock.sleep(this.intervalMs), new Promise<void>((resolve) => (this.wake = resolve))]);
        if (this.stopped) break;
        try {
          await this.sweepOnce();
        } catch (err) {
          // The database may be away; the next pass tries again.
          this.logger.error('timeout sweep failed', { err });
        }
      }
    })();
  }

  /** Stops sweeping; resolves once a pass in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.running;
  }
}
