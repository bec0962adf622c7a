import { createSilentLogger, ManualClock } from '@maestro/runtime';
import type { ModelPhaseStats } from '../store/usage-ledger.js';
import { emptyTotals } from '../store/usage-ledger.js';
import { SuccessRateCache } from './success-rate-cache.js';

const stats = (spec: string, verdicts: number, successes: number): ModelPhaseStats => ({
  spec,
  phase: 'code',
  totals: emptyTotals(),
  failedCalls: 0,
  verdicts,
  successes,
  latencyP50Ms: 0,
  latencyP99Ms: 0,
});

describe('SuccessRateCache', () => {
  it('reads the ledger at most once per TTL and serves the rates by spec and phase', async () => {
    const clock = new ManualClock(0);
    let reads = 0;
    let rows = [stats('deepseek:deepseek-chat', 10, 9)];
    const cache = new SuccessRateCache({ modelStats: async () => (reads++, rows) }, { clock, ttlMs: 30_000, logger: createSilentLogger() });

    expect((await cache.snapshot())('deepseek:deepseek-chat', 'code')).toEqual({ verdicts: 10, successes: 9 });
    expect((await cache.snapshot())('deepseek:deepseek-chat', 'plan')).toBeUndefined();
    expect(reads).toBe(1);

    rows = [stats('deepseek:deepseek-chat', 20, 10)];
    clock.advance(29_999);
    expect((await cache.snapshot())('deepseek:deepseek-chat', 'code')).toEqual({ verdicts: 10, successes: 9 });
    clock.advance(1);
    expect((await cache.snapshot())('deepseek:deepseek-chat', 'code')).toEqual({ verdicts: 20, successes: 10 });
    expect(reads).toBe(2);
  });

  it('keeps the last figures when a refresh fails, and tries again only after the TTL', async () => {
    const clock = new ManualClock(0);
    let fail = false;
    let reads = 0;
    const cache = new SuccessRateCache(
      {
        modelStats: async () => {
          reads++;
          if (fail) throw new Error('database down');
          return [stats('openai:gpt-4o-mini', 5, 5)];
        },
      },
      { clock, ttlMs: 1_000, logger: createSilentLogger() },
    );
    await cache.snapshot();
    fail = true;
    clock.advance(1_000);
    expect((await cache.snapshot())('openai:gpt-4o-mini', 'code')).toEqual({ verdicts: 5, successes: 5 });
    await cache.snapshot();
    expect(reads).toBe(2);
  });

  it('lets concurrent callers share one read', async () => {
    let reads = 0;
    const cache = new SuccessRateCache(
      { modelStats: async () => (reads++, [stats('scripted', 1, 1)]) },
      { clock: new ManualClock(0), ttlMs: 1_000, logger: createSilentLogger() },
    );
    await Promise.all([cache.snapshot(), cache.snapshot(), cache.snapshot()]);
    expect(reads).toBe(1);
  });
});
