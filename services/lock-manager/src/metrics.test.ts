import { ManualClock, parsePrometheusText, Registry, sampleValue } from '@maestro/runtime';
import { validateAcquire } from './domain/lease.js';
import { createLockManagerMetrics, instrumentLockStore } from './metrics.js';
import { InMemoryLockStore } from './store/in-memory-lock-store.js';

const spec = (owner: string, concern: string, ttlMs = 1_000) => validateAcquire({ owner, concerns: [concern], ttlMs, waitMs: 0 });

async function setUp() {
  const clock = new ManualClock(1_000_000);
  const registry = new Registry();
  const store = instrumentLockStore(new InMemoryLockStore({ clock }), createLockManagerMetrics(registry), clock);
  const scrape = async () => parsePrometheusText(await registry.metrics());
  return { clock, store, scrape };
}

describe('instrumentLockStore', () => {
  it('records how long each lease was held until its release, by the clock', async () => {
    const { clock, store, scrape } = await setUp();
    const lease = await store.acquire(spec('A', 'port:1'));
    clock.advance(250);
    await store.release({ leaseId: lease.leaseId, owner: 'A' });
    await store.release({ leaseId: lease.leaseId, owner: 'A' });
    const parsed = await scrape();
    expect(sampleValue(parsed, 'maestro_lock_hold_seconds_count', { end: 'released' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_lock_hold_seconds_sum', { end: 'released' })).toBeCloseTo(0.25);
    await store.close();
  });

  it('records an expired lease’s hold up to its expiry, and counts grants and conflicts', async () => {
    const { clock, store, scrape } = await setUp();
    await store.acquire(spec('A', 'port:1', 400));
    await expect(store.acquire(spec('B', 'port:1'))).rejects.toMatchObject({ code: 'LOCK_CONFLICT' });
    clock.advance(400);
    const parsed = await scrape();
    expect(sampleValue(parsed, 'maestro_lock_hold_seconds_count', { end: 'expired' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_lock_hold_seconds_sum', { end: 'expired' })).toBeCloseTo(0.4);
    expect(sampleValue(parsed, 'maestro_lock_requests_total', { outcome: 'granted' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_lock_requests_total', { outcome: 'conflict' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_lock_wait_seconds_count')).toBe(2);
    await store.close();
  });
});
