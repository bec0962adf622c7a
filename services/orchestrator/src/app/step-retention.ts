/**
 * Retention of agent steps: every so often, the steps of tasks that finished longer ago than the
 * retention period are deleted in bounded batches, so `agent_steps` does not grow forever.
 * Steps of tasks still pending or running are never touched, however old.
 */
import type { Clock, Logger } from '@maestro/runtime';
import type { AgentStepStore } from '../store/agent-step-store.js';

/** Defaults of the step retention: keep 30 days, sweep hourly, delete 5000 rows per statement. */
export const StepRetentionDefaults = {
  retentionDays: 30,
  intervalMs: 60 * 60 * 1000,
  batchSize: 5000,
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

/** How the retention sweep runs. */
export interface StepRetentionOptions {
  /** Steps of tasks finished longer ago than this many days are deleted. */
  retentionDays: number;
  /** Pause between sweeps. @default StepRetentionDefaults.intervalMs */
  intervalMs?: number;
  /** Rows deleted per statement. @default StepRetentionDefaults.batchSize */
  batchSize?: number;
}

/**
 * Deletes every step of tasks that reached a final status more than `retentionDays` before
 * `clock.now()`, batch by batch; resolves to how many steps it deleted. Stops between batches
 * when `signal` aborts (what is deleted stays deleted; the next sweep continues).
 */
export async function pruneAgentSteps(
  steps: Pick<AgentStepStore, 'deleteStepsOfFinishedTasks'>,
  clock: Pick<Clock, 'now'>,
  options: StepRetentionOptions,
  signal?: AbortSignal,
): Promise<number> {
  const batchSize = options.batchSize ?? StepRetentionDefaults.batchSize;
  // One cutoff for the whole sweep, so it ends even while tasks keep finishing.
  const cutoff = new Date(clock.now() - options.retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    if (signal?.aborted) return total;
    const deleted = await steps.deleteStepsOfFinishedTasks(cutoff, batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/**
 * The periodic sweep: {@link pruneAgentSteps} once shortly after `start` and then every
 * `intervalMs`. Every replica sweeps; concurrent sweeps only delete the same rows once.
 */
export class StepRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly stopped = new AbortController();

  constructor(
    private readonly steps: Pick<AgentStepStore, 'deleteStepsOfFinishedTasks'>,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly logger: Logger,
    private readonly options: StepRetentionOptions,
  ) {}

  /** Starts sweeping in the background; a failed sweep is logged and the next one tries again. */
  start(): void {
    if (this.timer !== undefined || this.stopped.signal.aborted) return;
    const intervalMs = this.options.intervalMs ?? StepRetentionDefaults.intervalMs;
    // Not awaited by start: a large first sweep must not delay serving.
    this.timer = setTimeout(() => this.tick(intervalMs), 0);
    this.timer.unref();
  }

  /** Runs one sweep now (what the timer does); resolves when it is done. */
  async sweep(): Promise<number> {
    const deleted = await pruneAgentSteps(this.steps, this.clock, this.options, this.stopped.signal);
    if (deleted > 0) this.logger.info('old agent steps deleted', { deleted, retentionDays: this.options.retentionDays });
    return deleted;
  }

  /** Stops the timer and waits for a sweep in progress to finish its current batch. */
  async stop(): Promise<void> {
    this.stopped.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private tick(intervalMs: number): void {
    this.running = this.sweep()
      .then(
        () => undefined,
        (err: unknown) => this.logger.warn('agent step retention sweep failed; retrying at the next one', { err }),
      )
      .finally(() => {
        this.running = undefined;
        if (this.stopped.signal.aborted) return;
        this.timer = setTimeout(() => this.tick(intervalMs), intervalMs);
        this.timer.unref();
      });
  }
}
