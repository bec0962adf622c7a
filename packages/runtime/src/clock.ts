/**
 * Time as a dependency, so leases, timers and retries can be tested without sleeping: code
 * reads `now()`, waits with `sleep(ms, signal)` and schedules with `setTimer(ms, fn)`; tests
 * pass a `ManualClock` and move time with `advance`.
 */

/** A scheduled callback that can be called off. */
export interface Timer {
  /** Stops the callback from running; harmless after it ran or was cancelled. */
  cancel(): void;
}

/** Where code reads the time from. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` of this clock's time. When `signal` aborts first, rejects with the
   * signal's reason (an `AbortError` when it has none) and the pending wait is dropped.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Runs `fn` once after `ms` of this clock's time, unless cancelled first. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** The reason a sleep rejects with when its signal aborted without one. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The wait was aborted', 'AbortError');
}

/**
 * The one way to turn a timer into a cancellable promise, for every clock: resolves when the
 * timer fires, rejects when `signal` aborts (and cancels the timer).
 */
function sleepWith(clock: Pick<Clock, 'setTimer'>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortReason(signal!));
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepWith(systemClock, ms, signal),
  setTimer: (ms, fn) => {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

interface ManualTimer {
  readonly due: number;
  /** Order of scheduling, so timers due at the same instant fire in the order they were set. */
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to: timers and sleeps fire when `advance` passes their
 * due time, earliest first (ties in the order they were set). For unit tests of time-dependent
 * logic; nothing here ever waits on the wall clock.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer: ManualTimer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Timers (and sleeps) not yet fired or cancelled: lets a test see that a wait was set up or dropped. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer due by then in due order; the clock reads
   * each timer's due time while it runs, so a callback that sets a new timer inside the window
   * sees it fire in the same advance.
   */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliestDue(target);
      if (next === undefined) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = target;
  }

  private earliestDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
