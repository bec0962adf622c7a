/**
 * What one executor process has done since it started: the numbers `GetStatus` reports and
 * that an operator reads before scaling down or draining a replica.
 */

/** A read-only copy of the counters. */
export interface ExecutorStatsSnapshot {
  inFlight: number;
  completed: number;
  failed: number;
  draining: boolean;
}

/**
 * Counters of subtasks in hand and finished. `completed` counts results with `ok: true`,
 * `failed` those with `ok: false` (including dead-lettered work); replays of stored results
 * count nothing, as no work was done.
 */
export class ExecutorStats {
  private inFlight = 0;
  private completed = 0;
  private failed = 0;
  private draining = false;

  /** A subtask was taken up. */
  started(): void {
    this.inFlight++;
  }

  /** A subtask taken up with {@link started} left this executor (finished, handed back, or crashed). */
  ended(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** A result was produced for a subtask. */
  recorded(ok: boolean): void {
    if (ok) this.completed++;
    else this.failed++;
  }

  /** The executor stopped taking new work. */
  markDraining(): void {
    this.draining = true;
  }

  /** The counters as they are now. */
  snapshot(): ExecutorStatsSnapshot {
    return { inFlight: this.inFlight, completed: this.completed, failed: this.failed, draining: this.draining };
  }
}
