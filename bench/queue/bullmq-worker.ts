/**
 * One BullMQ worker process for the benchmark: an empty processor that returns when it started
 * (epoch ms), so the runner can compute pick-up latency exactly as it does for executor probes.
 * Configured by BENCH_REDIS_URL, BENCH_QUEUE, BENCH_PREFIX and BENCH_CONCURRENCY; prints
 * `bullmq worker ready` once it takes work and closes gracefully on SIGTERM.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { preciseNow } from './stats.js';

const queue = required('BENCH_QUEUE');
const prefix = required('BENCH_PREFIX');
const concurrency = Number(required('BENCH_CONCURRENCY'));
const connection = new Redis(required('BENCH_REDIS_URL'), { maxRetriesPerRequest: null });

const worker = new Worker(queue, async () => ({ startedAt: preciseNow() }), { connection, prefix, concurrency });
await worker.waitUntilReady();
process.stdout.write('bullmq worker ready\n');

process.once('SIGTERM', () => {
  void worker.close().finally(() => {
    connection.disconnect();
    process.exit(0);
  });
});

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} must be set`);
  return value;
}
