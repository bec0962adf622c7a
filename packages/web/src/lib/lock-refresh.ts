/**
 * When the run page re-reads the lock table (`GET /v1/locks`): once when the page opens, then on
 * the lock events of the run's stream (`lock.acquired`, `lock.released`, `lock.expired`,
 * `lock.waiting`: the gateway sends only those of the run's subtasks), at most once per
 * `throttleMs`, plus a slow safety read every `safetyMs` while the run runs (lock events travel
 * over core NATS and may be lost, e.g. while the stream reconnects). Pure: time comes through an
 * injected {@link LockRefreshScheduler}, so tests drive it without real timers.
 */

/** The lock event names of a run's stream. */
export const LockStreamEvents = ['lock.acquired', 'lock.released', 'lock.expired', 'lock.waiting'] as const;

const lockEventNames: ReadonlySet<string> = new Set(LockStreamEvents);

/** Whether a stream event is one of {@link LockStreamEvents}. */
export function isLockEvent(name: string): boolean {
  return lockEventNames.has(name);
}

/** Timing of the lock re-reads. */
export const LockRefreshDefaults = {
  /** Lock events cause at most one read per this many ms. */
  throttleMs: 250,
  /** While the run runs, the table is read at least this often, events or not. */
  safetyMs: 15_000,
} as const;

/** The clock and timers the refresher uses (the browser's by default). */
export interface LockRefreshScheduler {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The browser's (or Node's) clock and timers. */
export const realScheduler: LockRefreshScheduler = {
  now: () => Date.now(),
  setTimeout: (run, ms) => globalThis.setTimeout(run, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** Options of {@link createLockRefresh}. */
export interface LockRefreshOptions {
  /** Reads the lock table (the caller handles its answer and errors). */
  read(): void;
  /** @default realScheduler */
  scheduler?: LockRefreshScheduler;
  /** @default LockRefreshDefaults.throttleMs */
  throttleMs?: number;
  /** @default LockRefreshDefaults.safetyMs */
  safetyMs?: number;
}

/** Drives the lock table reads of one run page. */
export interface LockRefresh {
  /** Reads now; while `running`, also every `safetyMs` until {@link runEnded} or {@link stop}. */
  start(running: boolean): void;
  /** A lock event (or a reconnected stream): reads now, or once at the end of the current throttle window. */
  changed(): void;
  /** The run finished: reads the final table once and stops the safety reads. */
  runEnded(): void;
  /** Cancels every pending read (page left or reloaded). */
  stop(): void;
}

/** Creates the refresher; nothing is read until {@link LockRefresh.start}. */
export function createLockRefresh(options: LockRefreshOptions): LockRefresh {
  const scheduler = options.scheduler ?? realScheduler;
  const throttleMs = options.throttleMs ?? LockRefreshDefaults.throttleMs;
  const safetyMs = options.safetyMs ?? LockRefreshDefaults.safetyMs;
  let running = false;
  let lastRead = Number.NEGATIVE_INFINITY;
  let trailing: unknown;
  let safety: unknown;

  const cancel = (handle: unknown): undefined => {
    if (handle !== undefined) scheduler.clearTimeout(handle);
    return undefined;
  };

  const armSafety = (): void => {
    safety = cancel(safety);
    if (running) safety = scheduler.setTimeout(read, safetyMs);
  };

  function read(): void {
    trailing = cancel(trailing);
    lastRead = scheduler.now();
    options.read();
    // A read just happened: the next safety read is due `safetyMs` after it.
    armSafety();
  }

  return {
    start(isRunning) {
      running = isRunning;
      read();
    },
    changed() {
      if (trailing !== undefined) return;
      const wait = lastRead + throttleMs - scheduler.now();
      if (wait <= 0) read();
      else trailing = scheduler.setTimeout(read, wait);
    },
    runEnded() {
      running = false;
      read();
    },
    stop() {
      running = false;
      trailing = cancel(trailing);
      safety = cancel(safety);
    },
  };
}
