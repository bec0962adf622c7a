/**
 * `pnpm --filter @maestro/bench run queue`: work items per second and pick-up latency of no-op
 * work through CodeMaestro's whole executor path and through BullMQ, at 1, 2 and 4 worker
 * processes, in one run on this machine, printed as one table. Bounded in items and time;
 * talks to 127.0.0.1 only. See bench/README.md for the method and the figures measured.
 */
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { BullMqTarget } from './bullmq-target.js';
import { CodeMaestroTarget } from './codemaestro-target.js';
import { preciseNow, summarize, type LatencySummary } from './stats.js';
import type { Completion, QueueTarget } from './target.js';

/** Benchmark settings, from BENCH_* variables. */
const settings = {
  natsUrl: localUrl('BENCH_NATS_URL', 'nats://127.0.0.1:4222'),
  redisUrl: localUrl('BENCH_REDIS_URL', 'redis://127.0.0.1:6379'),
  workers: (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map((s) => bounded('BENCH_WORKERS', Number(s), 1, 8)),
  concurrency: bounded('BENCH_CONCURRENCY', Number(process.env.BENCH_CONCURRENCY ?? 16), 1, 64),
  burstItems: bounded('BENCH_BURST', Number(process.env.BENCH_BURST ?? 5000), 100, 50_000),
  warmupItems: bounded('BENCH_WARMUP', Number(process.env.BENCH_WARMUP ?? 2000), 0, 50_000),
  systems: (process.env.BENCH_SYSTEMS ?? 'codemaestro,bullmq').split(','),
  ratePerSecond: bounded('BENCH_RATE', Number(process.env.BENCH_RATE ?? 500), 1, 5_000),
  paceSeconds: bounded('BENCH_PACE_SECONDS', Number(process.env.BENCH_PACE_SECONDS ?? 5), 1, 60),
  /** Publishes in flight at once during a burst. */
  burstWindow: 256,
  phaseTimeoutMs: 120_000,
};

/** One system at one worker count. */
interface Measurement {
  system: string;
  workers: number;
  itemsPerSecond: number;
  pickup: LatencySummary;
}

/** Routes completions of the current phase; anything else (a late warm-up item) is ignored. */
class Phase {
  private readonly sentAt = new Map<string, number>();
  private readonly latencies: number[] = [];
  private lastCompletion = 0;
  private waiter: (() => void) | undefined;

  constructor(readonly expected: number) {}

  sent(id: string, at: number): void {
    this.sentAt.set(id, at);
  }

  completed(c: Completion): void {
    const at = this.sentAt.get(c.id);
    if (at === undefined) return;
    this.sentAt.delete(c.id);
    this.latencies.push(c.startedAt - at);
    this.lastCompletion = preciseNow();
    if (this.latencies.length === this.expected) this.waiter?.();
  }

  async done(what: string): Promise<{ latencies: number[]; lastCompletion: number }> {
    if (this.latencies.length < this.expected) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${what}: ${this.latencies.length}/${this.expected} completed within ${settings.phaseTimeoutMs} ms`)),
          settings.phaseTimeoutMs,
        );
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return { latencies: this.latencies, lastCompletion: this.lastCompletion };
  }
}

/** Offers `count` items as fast as the broker takes them; items/s from first publish to last completion. */
async function burst(target: QueueTarget, count: number, tag: string): Promise<number> {
  const phase = new Phase(count);
  target.onCompleted((c) => phase.completed(c));
  const ids = Array.from({ length: count }, (_, i) => `${tag}-${i}`);
  const t0 = preciseNow();
  let next = 0;
  await Promise.all(
    Array.from({ length: settings.burstWindow }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const at = preciseNow();
        phase.sent(id, at);
        await target.enqueue(id, at);
      }
    }),
  );
  const { lastCompletion } = await phase.done(`${target.system} burst`);
  return count / ((lastCompletion - t0) / 1000);
}

/** Offers items at a steady rate; pick-up latency = worker start − enqueue call. */
async function paced(target: QueueTarget, ratePerSecond: number, seconds: number, tag: string): Promise<LatencySummary> {
  const total = Math.round(ratePerSecond * seconds);
  const phase = new Phase(total);
  target.onCompleted((c) => phase.completed(c));
  const publishes: Array<Promise<void>> = [];
  const t0 = preciseNow();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((preciseNow() - t0) * ratePerSecond) / 1000) + 1);
    while (sent < due) {
      const id = `${tag}-${sent++}`;
      const at = preciseNow();
      phase.sent(id, at);
      publishes.push(target.enqueue(id, at));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(publishes);
  const { latencies } = await phase.done(`${target.system} paced`);
  return summarize(latencies);
}

async function measure(target: QueueTarget, workers: number): Promise<Measurement> {
  const tag = randomUUID().slice(0, 8);
  try {
    await target.start(workers);
    if (settings.warmupItems > 0) await burst(target, settings.warmupItems, `${tag}-warm`);
    const itemsPerSecond = await burst(target, settings.burstItems, `${tag}-burst`);
    const pickup = await paced(target, settings.ratePerSecond, settings.paceSeconds, `${tag}-paced`);
    return { system: target.system, workers, itemsPerSecond, pickup };
  } finally {
    await target.stop();
  }
}

/** A row for a system left out with BENCH_SYSTEMS. */
function skipped(system: string, workers: number): Measurement {
  return { system, workers, itemsPerSecond: Number.NaN, pickup: summarize([]) };
}

function localUrl(name: string, fallback: string): string {
  const value = process.env[name] ?? fallback;
  const host = new URL(value).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`${name} must point at 127.0.0.1 (got ${value})`);
  return value;
}

function bounded(name: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  console.log(
    `queue bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; ` +
      `concurrency ${settings.concurrency} per worker process; burst ${settings.burstItems} items; ` +
      `pick-up at ${settings.ratePerSecond} items/s for ${settings.paceSeconds} s`,
  );
  const rows: Array<{ workers: number; cm: Measurement; bull: Measurement }> = [];
  for (const workers of settings.workers) {
    const cm = !settings.systems.includes('codemaestro') ? skipped('CodeMaestro executor', workers) : await measure(new CodeMaestroTarget({ natsUrl: settings.natsUrl, concurrency: settings.concurrency }), workers);
    console.log(`  ${cm.system} × ${workers}: ${fmt(cm.itemsPerSecond, 0)} items/s, pick-up p50 ${fmt(cm.pickup.p50, 2)} ms p99 ${fmt(cm.pickup.p99, 2)} ms`);
    const bull = !settings.systems.includes('bullmq') ? skipped('BullMQ', workers) : await measure(new BullMqTarget({ redisUrl: settings.redisUrl, concurrency: settings.concurrency }), workers);
    console.log(`  ${bull.system} × ${workers}: ${fmt(bull.itemsPerSecond, 0)} items/s, pick-up p50 ${fmt(bull.pickup.p50, 2)} ms p99 ${fmt(bull.pickup.p99, 2)} ms`);
    rows.push({ workers, cm, bull });
  }
  console.log('');
  console.log('| workers | CodeMaestro items/s | BullMQ items/s | throughput ratio | CodeMaestro pick-up p50 / p99 ms | BullMQ pick-up p50 / p99 ms |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { workers, cm, bull } of rows) {
    console.log(
      `| ${workers} | ${fmt(cm.itemsPerSecond, 0)} | ${fmt(bull.itemsPerSecond, 0)} | ${fmt(cm.itemsPerSecond / bull.itemsPerSecond, 2)}× | ` +
        `${fmt(cm.pickup.p50, 2)} / ${fmt(cm.pickup.p99, 2)} | ${fmt(bull.pickup.p50, 2)} / ${fmt(bull.pickup.p99, 2)} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
