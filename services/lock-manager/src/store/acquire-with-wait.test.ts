import { ManualClock, MaestroError } from '@maestro/runtime';
import type { Lease } from '../domain/lease.js';
import { AcquireBackoff, acquireWithWait } from './acquire-with-wait.js';
import type { AcquireAttempt } from './lock-store.js';

const conflict: AcquireAttempt = { granted: false, conflict: { concern: 'port:80', leaseId: 'L1', owner: 'A' } };
const lease: Lease = { leaseId: 'L2', owner: 'B', concerns: ['port:80'], fencingToken: 7, expiresAt: 1 };
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A manual clock that records every pause it is asked for. */
class RecordingClock extends ManualClock {
  readonly pauses: number[] = [];
  override sleep(ms: number): Promise<void> {
    this.pauses.push(ms);
    return super.sleep(ms);
  }
}

describe('acquireWithWait', () => {
  it('fails at once without waiting when wait_ms is 0', async () => {
    const clock = new RecordingClock();
    const attempt = jest.fn(() => Promise.resolve(conflict));
    await expect(acquireWithWait(attempt, 0, { clock })).rejects.toMatchObject({ code: 'LOCK_CONFLICT' });
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(clock.pauses).toEqual([]);
  });

  it('backs off exponentially up to the cap, makes a last attempt at the deadline, then names the holder', async () => {
    const clock = new RecordingClock();
    const attempt = jest.fn(() => Promise.resolve(conflict));
    // random() = 1 removes the jitter so the pauses are exact.
    const result = acquireWithWait(attempt, 1_000, { clock, random: () => 1 }).catch((e: unknown) => e);
    let settled: unknown;
    void result.then((r) => (settled = r));
    while (settled === undefined) {
      await tick();
      clock.advance(clock.pauses.at(-1) ?? 0);
    }
    // The last pause is cut to what is left of the wait, so the final attempt is at the deadline.
    expect(clock.pauses).toEqual([10, 20, 40, 80, 160, 200, 200, 200, 90]);
    expect(attempt).toHaveBeenCalledTimes(10);
    expect(settled).toBeInstanceOf(MaestroError);
    expect((settled as MaestroError).message).toBe(
      'port:80 is held by A (lease L1) after waiting 1000 ms; retry later or wait longer (wait_ms)',
    );
  });

  it('returns the lease of the first attempt that grants', async () => {
    const clock = new RecordingClock();
    const attempts: AcquireAttempt[] = [conflict, conflict, { granted: true, lease }];
    const attempt = jest.fn(() => Promise.resolve(attempts.shift()!));
    const result = acquireWithWait(attempt, 10_000, { clock });
    for (let i = 0; i < 5; i++) {
      await tick();
      clock.advance(AcquireBackoff.maxMs);
    }
    await expect(result).resolves.toBe(lease);
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('does not try at all when the caller already left', async () => {
    const attempt = jest.fn(() => Promise.resolve(conflict));
    const controller = new AbortController();
    controller.abort();
    await expect(acquireWithWait(attempt, 1_000, { clock: new RecordingClock(), signal: controller.signal })).rejects.toMatchObject({
      code: 'LOCK_WAIT_CANCELLED',
    });
    expect(attempt).not.toHaveBeenCalled();
  });
});
