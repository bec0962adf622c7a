import { ManualClock, OperationalError } from '@maestro/runtime';
import { withDeadline } from './with-deadline.js';

describe('withDeadline', () => {
  it('returns the answer in time and leaves no timer behind', async () => {
    const clock = new ManualClock();
    await expect(withDeadline(clock, 1_000, 'embedder x', async () => 42)).resolves.toBe(42);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with EMBEDDER_TIMEOUT and aborts the call once the time is up, even if the call ignores its signal', async () => {
    const clock = new ManualClock();
    let signal: AbortSignal | undefined;
    const pending = withDeadline(clock, 1_000, 'embedder x', (s) => {
      signal = s;
      return new Promise<number>(() => undefined);
    });
    clock.advance(999);
    expect(signal!.aborted).toBe(false);
    clock.advance(1);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect(err).toMatchObject({ code: 'EMBEDDER_TIMEOUT', message: 'embedder x did not answer within 1000 ms' });
    expect(signal!.aborted).toBe(true);
  });

  it('passes the call\'s own failure through', async () => {
    const clock = new ManualClock();
    await expect(withDeadline(clock, 1_000, 'embedder x', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(clock.pendingTimers).toBe(0);
  });
});
