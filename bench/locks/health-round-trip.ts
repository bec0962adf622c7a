/**
 * For scale next to the uncontended lock latency: the same client → lock-manager gRPC round trip
 * doing no lock work (the standard `grpc.health.v1.Health/Check`), so the table shows how much of
 * an acquire+release (two round trips) is transport and how much is the lock-manager's work.
 */
import { HealthClient } from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';
import type { UncontendedResult } from './measure.js';
import { percentile } from '../shared/stats.js';

/** `ops` sequential Health/Check calls to `address` (after `warmup`), each counted as one op. */
export async function measureHealthRoundTrip(address: string, ops: number, warmup: number): Promise<UncontendedResult> {
  const health = createGrpcClient(HealthClient, address, { deadlineMs: 10_000 });
  try {
    for (let i = 0; i < warmup; i++) await health.call.check({ service: '' });
    const latencies: number[] = [];
    const start = performance.now();
    for (let i = 0; i < ops; i++) {
      const t0 = performance.now();
      await health.call.check({ service: '' });
      latencies.push(performance.now() - t0);
    }
    return {
      ops,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      opsPerSecond: ops / ((performance.now() - start) / 1000),
      finished: true,
    };
  } finally {
    health.close();
  }
}
