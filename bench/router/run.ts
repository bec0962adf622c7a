/**
 * `pnpm --filter @maestro/bench run router`: what the router adds to one completion, and how
 * fast it decides. Against a fake OpenAI-compatible server on 127.0.0.1 (not a model, in a
 * process of its own), the latency of a chat completion through the router's gRPC `Complete`
 * next to the same call made directly with the openai SDK (p50 / p99 and the difference),
 * sequential and with calls in flight; the RPCs that call no provider (Route, ClassifyIntent)
 * and the parts of a Complete timed alone; then Route decisions and intent classifications per
 * second, in-process. Prints tables; asserts nothing. Bounded in calls and time; talks to
 * 127.0.0.1 only. See bench/README.md for the method and the figures measured.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { RouteRequest } from '@maestro/contracts';
import { classifyIntent } from '@maestro/intent';
import { LogLevels } from '@maestro/runtime';
import { testServerUrl } from '@maestro/testing';
import { percentile } from '../shared/stats.js';
import { summarize, type LatencySummary } from '../queue/stats.js';
import { DirectSdkClient } from './direct-sdk-client.js';
import { startFakeUpstreamProcess } from './fake-upstream-process.js';
import { InProcessRouter } from './in-process-router.js';

/** Benchmark settings, from BENCH_* variables. */
const settings = {
  natsUrl: localUrl('BENCH_NATS_URL', process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222'),
  // The test database is created on the server `@maestro/testing` uses (MAESTRO_TEST_PG_URL).
  pgUrl: localUrl('MAESTRO_TEST_PG_URL', testServerUrl()),
  warmupCalls: bounded('BENCH_WARMUP', process.env.BENCH_WARMUP ?? '30', 0, 1_000),
  calls: bounded('BENCH_CALLS', process.env.BENCH_CALLS ?? '300', 10, 10_000),
  concurrency: bounded('BENCH_CONCURRENCY', process.env.BENCH_CONCURRENCY ?? '8', 0, 64),
  concurrentCalls: bounded('BENCH_CONCURRENT_CALLS', process.env.BENCH_CONCURRENT_CALLS ?? '800', 10, 20_000),
  rpcCalls: bounded('BENCH_RPC_CALLS', process.env.BENCH_RPC_CALLS ?? '1000', 10, 20_000),
  loopSeconds: bounded('BENCH_LOOP_SECONDS', process.env.BENCH_LOOP_SECONDS ?? '1', 1, 10),
  streamStorage: oneOf('BENCH_STREAM_STORAGE', process.env.BENCH_STREAM_STORAGE ?? 'memory', ['memory', 'file'] as const),
  logLevel: oneOf('BENCH_LOG_LEVEL', process.env.BENCH_LOG_LEVEL ?? 'silent', LogLevels),
  /** Deadline of every call, either path. */
  callTimeoutMs: 10_000,
  /** Every phase gives up after this long. */
  phaseTimeoutMs: 120_000,
};

/** Routing queries cycled through: each phase, an explicit role, a task intent. */
const ROUTE_QUERIES: readonly RouteRequest[] = [
  { role: '', intent: 'plan', taskIntent: '' },
  { role: '', intent: 'code', taskIntent: '' },
  { role: '', intent: 'review', taskIntent: 'fix' },
  { role: 'tactical', intent: 'escalate', taskIntent: '' },
];

/** Task goals cycled through by the classification loops, of the lengths users type. */
const GOALS: readonly string[] = [
  'Fix the crash when the config file is missing',
  'add a --dry-run flag to the deploy command',
  'Refactor the lease renewal into its own module and keep the behaviour',
  'Write unit tests for the budget check in the router',
  'Explain how the orchestrator retries a failed subtask',
  'Update the README with the new environment variables',
  'Plan the migration of the usage ledger to monthly partitions',
  'Review the pull request that changes the NATS stream limits',
];

/** Calls of one path: each call's latency (ms) and this process's CPU time over them (ms). */
interface Sample {
  latencies: number[];
  cpuMs: number;
}

/** A row of a latency table. */
interface LatencyRow {
  label: string;
  latency: LatencySummary;
  callsPerSecond: number;
  /** CPU time of this process per call: the client's, plus the router's when it is called. */
  cpuMsPerCall: number;
}

/** A row giving the router's added latency: the difference of the two paths' percentiles. */
interface AddedRow {
  label: string;
  addedP50: number;
  addedP99: number;
  addedCpuMs: number;
}

/** Wall-clock milliseconds with sub-millisecond resolution. */
const now = (): number => performance.now();

/** CPU time (user + system) of this process so far, in ms. */
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Rejects when `promise` takes longer than a phase may. */
async function phase<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${settings.phaseTimeoutMs} ms`)), settings.phaseTimeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes one call, adding its latency and CPU time to `sample`. */
async function timed(call: () => Promise<unknown>, sample: Sample): Promise<void> {
  const cpu0 = cpuNow();
  const t0 = now();
  await call();
  sample.latencies.push(now() - t0);
  sample.cpuMs += cpuNow() - cpu0;
}

const emptySample = (): Sample => ({ latencies: [], cpuMs: 0 });

/**
 * Calls both paths `count` times, one call at a time, alternating which goes first, so load
 * from elsewhere on a shared machine falls on both alike.
 */
async function sequentialPair(a: () => Promise<unknown>, b: () => Promise<unknown>, count: number): Promise<[Sample, Sample]> {
  const as = emptySample();
  const bs = emptySample();
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      await timed(a, as);
      await timed(b, bs);
    } else {
      await timed(b, bs);
      await timed(a, as);
    }
  }
  return [as, bs];
}

/** Sequential calls of one path. */
async function sequential(call: () => Promise<unknown>, count: number): Promise<Sample> {
  const sample = emptySample();
  for (let i = 0; i < count; i++) await timed(call, sample);
  return sample;
}

/**
 * `count` calls from `concurrency` callers, each making its next call when the last returns;
 * calls per second over the whole phase, CPU time of the process over the whole phase.
 */
async function concurrent(call: () => Promise<unknown>, count: number, concurrency: number): Promise<{ sample: Sample; callsPerSecond: number }> {
  const latencies: number[] = [];
  let started = 0;
  const cpu0 = cpuNow();
  const t0 = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started++;
        const t = now();
        await call();
        latencies.push(now() - t);
      }
    }),
  );
  const elapsed = now() - t0;
  return { sample: { latencies, cpuMs: cpuNow() - cpu0 }, callsPerSecond: count / (elapsed / 1000) };
}

/** Operations per second of an async operation, awaited one at a time, for `seconds` (after a quarter second not counted). */
async function asyncRate(op: (i: number) => Promise<unknown>, seconds: number): Promise<number> {
  const run = async (ms: number): Promise<number> => {
    let n = 0;
    const t0 = now();
    while (now() - t0 < ms) await op(n++);
    return n / ((now() - t0) / 1000);
  };
  await run(250);
  return run(seconds * 1000);
}

/** Operations per second of a synchronous operation, in batches of 100 between clock reads, after a quarter second not counted. */
function syncRate(op: (i: number) => unknown, seconds: number): number {
  const run = (ms: number): number => {
    let n = 0;
    const t0 = now();
    while (now() - t0 < ms) for (let j = 0; j < 100; j++) op(n++);
    return n / ((now() - t0) / 1000);
  };
  run(250);
  return run(seconds * 1000);
}

/** A row for one path; calls per second is 1000 / mean latency unless given (calls in flight). */
function latencyRow(label: string, sample: Sample, callsPerSecond = 1000 / mean(sample.latencies)): LatencyRow {
  return { label, latency: summarize(sample.latencies), callsPerSecond, cpuMsPerCall: sample.cpuMs / sample.latencies.length };
}

/** What the router adds: its row's percentiles and CPU per call minus the direct row's. */
function addedRow(label: string, direct: LatencyRow, router: LatencyRow): AddedRow {
  return {
    label,
    addedP50: router.latency.p50 - direct.latency.p50,
    addedP99: router.latency.p99 - direct.latency.p99,
    addedCpuMs: router.cpuMsPerCall - direct.cpuMsPerCall,
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function localUrl(name: string, value: string): string {
  const host = new URL(value).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`${name} must point at 127.0.0.1 (got ${host})`);
  return value;
}

function bounded(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const signed = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(2)}` : 'n/a');

function printLatencyTable(title: string, rows: ReadonlyArray<LatencyRow | AddedRow>): void {
  console.log(`| ${title} | calls | p50 ms | p99 ms | max ms | calls/s | CPU ms/call |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    if ('latency' in row) {
      const l = row.latency;
      console.log(`| ${row.label} | ${l.count} | ${fmt(l.p50)} | ${fmt(l.p99)} | ${fmt(l.max)} | ${fmt(row.callsPerSecond, 0)} | ${fmt(row.cpuMsPerCall)} |`);
    } else {
      console.log(`| **${row.label}** | | **${signed(row.addedP50)}** | **${signed(row.addedP99)}** | | | **${signed(row.addedCpuMs)}** |`);
    }
  }
}

async function main(): Promise<void> {
  const [load1] = loadavg();
  console.log(
    `router bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ` +
      `load average ${fmt(load1 ?? Number.NaN)}; upstream: @maestro/testing fake OpenAI server on 127.0.0.1 in a process of its own ` +
      `(fake server: not a model); router in this process; streams ${settings.streamStorage}, router log level ${settings.logLevel}`,
  );
  const upstream = await phase('fake upstream start', startFakeUpstreamProcess());
  const router = new InProcessRouter({
    upstreamUrl: upstream.openaiBaseUrl,
    natsUrl: settings.natsUrl,
    streamStorage: settings.streamStorage,
    logLevel: settings.logLevel,
    deadlineMs: settings.callTimeoutMs,
  });
  try {
    await phase('router start', router.start());
    const direct = new DirectSdkClient(upstream.openaiBaseUrl, settings.callTimeoutMs);
    const directCall = (): Promise<void> => direct.complete();
    const routerCall = (): Promise<void> => router.complete();

    await phase('warm-up', sequentialPair(directCall, routerCall, settings.warmupCalls));

    const [directSeq, routerSeq] = await phase('sequential Complete', sequentialPair(directCall, routerCall, settings.calls));
    const directSeqRow = latencyRow(`${direct.system} → fake, sequential`, directSeq);
    const routerSeqRow = latencyRow(`${router.system} → fake, sequential`, routerSeq);
    const rows: Array<LatencyRow | AddedRow> = [directSeqRow, routerSeqRow, addedRow('router adds, sequential', directSeqRow, routerSeqRow)];
    console.log(`  sequential: direct p50 ${fmt(directSeqRow.latency.p50)} ms, router p50 ${fmt(routerSeqRow.latency.p50)} ms`);

    if (settings.concurrency > 0) {
      const c = settings.concurrency;
      const directConc = await phase('concurrent direct', concurrent(directCall, settings.concurrentCalls, c));
      const routerConc = await phase('concurrent router', concurrent(routerCall, settings.concurrentCalls, c));
      const directRow = latencyRow(`${direct.system} → fake, ${c} in flight`, directConc.sample, directConc.callsPerSecond);
      const routerRow = latencyRow(`${router.system} → fake, ${c} in flight`, routerConc.sample, routerConc.callsPerSecond);
      rows.push(directRow, routerRow, addedRow(`router adds, ${c} in flight`, directRow, routerRow));
      console.log(`  ${c} in flight: direct ${fmt(directConc.callsPerSecond, 0)} calls/s, router ${fmt(routerConc.callsPerSecond, 0)} calls/s`);
    }

    const routeRpcWarmup = Math.min(100, settings.rpcCalls);
    await phase('Route RPC warm-up', sequential(() => router.route(ROUTE_QUERIES[0]!), routeRpcWarmup));
    let r = 0;
    const routeRpc = await phase('Route RPC', sequential(() => router.route(ROUTE_QUERIES[r++ % ROUTE_QUERIES.length]!), settings.rpcCalls));
    const rpcRows: LatencyRow[] = [latencyRow('Route RPC (decision only)', routeRpc)];
    await phase('ClassifyIntent RPC warm-up', sequential(() => router.classifyIntent(GOALS[0]!), routeRpcWarmup));
    let g = 0;
    const classifyRpc = await phase('ClassifyIntent RPC', sequential(() => router.classifyIntent(GOALS[g++ % GOALS.length]!), settings.rpcCalls));
    rpcRows.push(latencyRow('ClassifyIntent RPC', classifyRpc));

    // The router's parts timed alone, to see where its added latency goes.
    const parts: Array<[string, () => Promise<void>]> = [
      ['gRPC round trip, no work (Health/Check)', () => router.healthCheck()],
      ['budget check: ledger sum over the task (PostgreSQL)', () => router.ledgerSpend()],
      ['ledger insert (PostgreSQL)', () => router.ledgerInsert()],
      [`llm.completed publish, acked (JetStream, ${settings.streamStorage})`, () => router.publishEvent()],
    ];
    for (const [label, call] of parts) {
      await phase(`${label} warm-up`, sequential(call, settings.warmupCalls));
      rpcRows.push(latencyRow(label, await phase(label, sequential(call, settings.calls))));
    }

    const completions = router.completions;
    const routesPerSecond = await phase('route loop', asyncRate((i) => completions.route(ROUTE_QUERIES[i % ROUTE_QUERIES.length]!), settings.loopSeconds));
    let classified = 0; // read below, so the calls cannot be optimised away
    const classificationsPerSecond = syncRate((i) => {
      if (classifyIntent(GOALS[i % GOALS.length]!).intent !== undefined) classified++;
    }, settings.loopSeconds);

    const traces = await router.traces();
    const served = await upstream.stop();
    const routerCalls = settings.warmupCalls + settings.calls + (settings.concurrency > 0 ? settings.concurrentCalls : 0);
    const probes = settings.warmupCalls + settings.calls;

    console.log('');
    printLatencyTable('path (upstream: fake server, not a model)', rows);
    console.log('');
    printLatencyTable('router RPCs without a provider call, and the parts of a Complete timed alone (sequential)', rpcRows);
    console.log('');
    console.log('| in-process, one at a time | per second | µs each |');
    console.log('| --- | ---: | ---: |');
    console.log(`| Route decisions (\`CompletionService.route\`, default policy) | ${fmt(routesPerSecond, 0)} | ${fmt(1e6 / routesPerSecond)} |`);
    console.log(`| intent classifications (\`classifyIntent\` from @maestro/intent) | ${fmt(classificationsPerSecond, 0)} | ${fmt(1e6 / classificationsPerSecond)} |`);
    console.log('');
    console.log(
      `checks: fake server answered ${served ?? 'n/a'} chat completions (expected ${2 * routerCalls}); ` +
        `router Completes ${routerCalls}, usage ledger rows ${traces.ledgerRows} and llm.completed events stored ${traces.eventsStored} ` +
        `(expected ${routerCalls + probes} each: one per Complete plus ${probes} timed alone); ${classified} in-process classifications`,
    );
  } finally {
    await router.stop();
    await upstream.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
