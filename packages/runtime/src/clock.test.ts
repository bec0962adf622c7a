import { ManualClock, systemClock } from './clock.js';

describe('ManualClock', () => {
  it('fires timers in due order when time passes them, ties in the order they were set', () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push('c'));
    clock.setTimer(10, () => fired.push('a'));
    clock.setTimer(10, () => fired.push('b'));
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(21);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(1_030);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reads the due time inside a callback and fires a timer that callback sets within the same advance', () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    clock.setTimer(5, () => {
      seen.push(clock.now());
      clock.setTimer(5, () => seen.push(clock.now()));
    });
    clock.advance(20);
    expect(seen).toEqual([5, 10]);
    expect(clock.now()).toBe(20);
  });

  it('never fires a cancelled timer', () => {
    const clock = new ManualClock();
    const fn = jest.fn();
    const timer = clock.setTimer(10, fn);
    timer.cancel();
    timer.cancel();
    clock.advance(100);
    expect(fn).not.toHaveBeenCalled();
    expect(clock.pendingTimers).toBe(0);
  });

  it('resolves a sleep when time passes it and rejects it, dropping the timer, when its signal aborts', async () => {
    const clock = new ManualClock();
    const done = clock.sleep(50);
    clock.advance(50);
    await expect(done).resolves.toBeUndefined();

    const controller = new AbortController();
    const aborted = clock.sleep(50, controller.signal);
    expect(clock.pendingTimers).toBe(1);
    controller.abort(new Error('caller left'));
    await expect(aborted).rejects.toThrow('caller left');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once a sleep whose signal already aborted, with an AbortError when no reason was given', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    controller.abort();
    await expect(clock.sleep(10, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('systemClock', () => {
  it('sleeps on the wall clock and stops waiting when aborted', async () => {
    await expect(systemClock.sleep(1)).resolves.toBeUndefined();
    const controller = new AbortController();
    const waiting = systemClock.sleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('runs a timer once and not at all when cancelled', async () => {
    const fired: string[] = [];
    systemClock.setTimer(1, () => fired.push('kept')).cancel();
    await new Promise<void>((resolve) => systemClock.setTimer(2, () => resolve()));
    expect(fired).toEqual([]);
  });
});
