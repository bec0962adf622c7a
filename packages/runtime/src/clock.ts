/**
 * Time as a dependency, so leases, timers and retries can be tested without sleeping.
 */

/** Where code reads the time from. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A clock that only moves when told to; `sleep` resolves when `advance` passes its deadline.
 * For unit tests of time-dependent logic.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly sleepers: Array<{ until: number; resolve: () => void }> = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepers.push({ until: this.current + ms, resolve });
    });
  }

  /** Moves time forward and wakes every sleeper whose deadline has passed. */
  advance(ms: number): void {
    this.current += ms;
    for (let i = this.sleepers.length - 1; i >= 0; i--) {
      const sleeper = this.sleepers[i]!;
      if (sleeper.until <= this.current) {
        this.sleepers.splice(i, 1);
        sleeper.resolve();
      }
    }
  }
}
