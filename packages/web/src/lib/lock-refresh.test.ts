import { createLockRefresh, isLockEvent, LockRefreshDefaults, type LockRefreshScheduler } from './lock-refresh';

/** A clock and timers moved by hand. */
class ManualScheduler implements LockRefreshScheduler {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; run: () => void }>();
  now(): number {
    return this.time;
  }
  setTimeout(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, run });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].run();
    }
    this.time = until;
  }
}

function setup() {
  const scheduler = new ManualScheduler();
  const reads: number[] = [];
  const refresh = createLockRefresh({ read: () => reads.push(scheduler.now()), scheduler });
  return { scheduler, reads, refresh };
}

describe('isLockEvent', () => {
  it('knows the lock events of a run stream', () => {
    expect(['lock.acquired', 'lock.released', 'lock.expired', 'lock.waiting'].every(isLockEvent)).toBe(true);
    expect(isLockEvent('work.step')).toBe(false);
  });
});

describe('createLockRefresh', () => {
  it('reads once when the page opens, then only slowly while nothing happens', () => {
    const { scheduler, reads, refresh } = setup();
    refresh.start(true);
    expect(reads).toEqual([0]);
    scheduler.advance(LockRefreshDefaults.safetyMs - 1);
    expect(reads).toEqual([0]);
    scheduler.advance(1 + LockRefreshDefaults.safetyMs);
    expect(reads).toEqual([0, 15_000, 30_000]);
  });

  it('reads on a lock event at once, and a burst of them once more at the end of the throttle window', () => {
    const { scheduler, reads, refresh } = setup();
    refresh.start(true);
    scheduler.advance(1000);
    refresh.changed();
    expect(reads).toEqual([0, 1000]);
    scheduler.advance(100);
    refresh.changed();
    refresh.changed();
    refresh.changed();
    expect(reads).toEqual([0, 1000]);
    scheduler.advance(150);
    expect(reads).toEqual([0, 1000, 1250]);
    scheduler.advance(1000);
    expect(reads).toEqual([0, 1000, 1250]);
  });

  it('puts the safety read off after an event-driven read', () => {
    const { scheduler, reads, refresh } = setup();
    refresh.start(true);
    scheduler.advance(10_000);
    refresh.changed();
    scheduler.advance(LockRefreshDefaults.safetyMs - 1);
    expect(reads).toEqual([0, 10_000]);
    scheduler.advance(1);
    expect(reads).toEqual([0, 10_000, 25_000]);
  });

  it('reads the final table when the run ends and then stops reading by itself', () => {
    const { scheduler, reads, refresh } = setup();
    refresh.start(true);
    scheduler.advance(500);
    refresh.runEnded();
    expect(reads).toEqual([0, 500]);
    scheduler.advance(60_000);
    expect(reads).toEqual([0, 500]);
    expect(scheduler.pending).toBe(0);
  });

  it('has no safety reads for a run that had already ended', () => {
    const { scheduler, reads, refresh } = setup();
    refresh.start(false);
    scheduler.advance(60_000);
    expect(reads).toEqual([0]);
  });

  it('reads nothing more once stopped, not even a pending trailing read', () => {
    const { scheduler, reads, refresh } = setup();
    refresh.start(true);
    refresh.changed();
    expect(scheduler.pending).toBe(2);
    refresh.stop();
    scheduler.advance(60_000);
    expect(reads).toEqual([0]);
    expect(scheduler.pending).toBe(0);
  });
});
