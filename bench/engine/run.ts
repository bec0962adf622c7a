/**
 * Engine benchmark: durable workflow transitions per second through the real workflow-engine
 * process (gRPC, its public API), next to LangGraph.js + PostgresSaver and a bare XState +
 * PostgreSQL floor, on the same PostgreSQL in the same run. Prints, never asserts. See
 * bench/README.md ("engine").
 *
 *   pnpm --filter @maestro/bench run engine
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, type Bus } from '@maestro/bus';
import { Streams } from '@maestro/contracts';
import { createDb, sql } from '@maestro/db';
import { createSilentLogger } from '@maestro/runtime';
import { createTestDatabase, testBusSigningKey, testServerUrl, type ServiceProcess, type TestDatabase } from '@maestro/testing';
import { runEngineBench, TargetRoles, type BenchEntry } from './engine-bench.js';
import { startEngineProcess } from './engine-process.js';
import { createLangGraphTarget } from './langgraph-target.js';
import { printAims, printTable } from './report.js';
import type { RunTarget } from './run-target.js';
import { createWorkflowEngineActivitiesTarget } from './workflow-engine-activities-target.js';
import { createWorkflowEngineSignalsTarget } from './workflow-engine-signals-target.js';
import { createXStateFloorTarget } from './xstate-floor-target.js';

const WORKSPACE_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

/** Every system the benchmark knows, in the order they run. */
const SYSTEMS = ['engine-activities', 'engine-signals', 'langgraph', 'langgraph-sync', 'floor'] as const;

/** Every knob, read once, with its default. */
const knobs = {
  sequentialRuns: intKnob('BENCH_SEQUENTIAL_RUNS', 200),
  concurrentRuns: intKnob('BENCH_CONCURRENT_RUNS', 400),
  concurrency: intKnob('BENCH_CONCURRENCY', 16),
  warmupRuns: intKnob('BENCH_WARMUP_RUNS', 48),
  phaseBudgetMs: intKnob('BENCH_PHASE_SECONDS', 120) * 1000,
  systems: (process.env.BENCH_SYSTEMS ?? SYSTEMS.join(',')).split(','),
  natsUrl: localUrl('BENCH_NATS_URL', 'nats://127.0.0.1:4222'),
  engineMain: process.env.BENCH_ENGINE_MAIN ?? join(WORKSPACE_ROOT, 'services', 'workflow-engine', 'dist', 'main.js'),
  engineNodeArgs: (process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
  engineResultConcurrency: optionalIntKnob('BENCH_ENGINE_RESULT_CONCURRENCY'),
  engineStepBatch: optionalIntKnob('BENCH_ENGINE_STEP_BATCH'),
} as const;

function intKnob(name: string, fallback: number): number {
  return optionalIntKnob(name) ?? fallback;
}

function optionalIntKnob(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}: expected a whole number ≥ 0, got "${raw}"`);
  return value;
}

function localUrl(name: string, fallback: string): string {
  const url = process.env[name] ?? fallback;
  if (!/^[a-z]+:\/\/([^@/]*@)?127\.0\.0\.1:\d+/.test(url)) throw new Error(`${name}: the benchmark only talks to 127.0.0.1, got "${url}"`);
  return url;
}

async function printMachine(databaseUrl: string): Promise<void> {
  const db = createDb<unknown>({ url: databaseUrl, maxConnections: 1 });
  const { rows } = await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(db);
  await db.destroy();
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} cpus (${cpu[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; PostgreSQL ${rows[0]?.v ?? '?'}`,
  );
}

async function deleteStreams(bus: Bus): Promise<void> {
  for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
}

async function main(): Promise<void> {
  for (const name of knobs.systems) {
    if (!(SYSTEMS as readonly string[]).includes(name)) throw new Error(`BENCH_SYSTEMS: unknown system "${name}"; use ${SYSTEMS.join(', ')}`);
  }
  const pgUrl = localUrl('MAESTRO_TEST_PG_URL', testServerUrl());
  await printMachine(pgUrl);
  const namespace = `benchengine${randomUUID().slice(0, 8)}`;
  const wantsEngine = knobs.systems.some((s) => s.startsWith('engine-'));
  const databases: TestDatabase[] = [];
  const targets: RunTarget[] = [];
  let engine: ServiceProcess | undefined;
  let bus: Bus | undefined;
  try {
    const entries: BenchEntry[] = [];
    if (wantsEngine) {
      const engineDb = await createTestDatabase('bench_engine');
      databases.push(engineDb);
      engine = await startEngineProcess({
        main: knobs.engineMain,
        databaseUrl: engineDb.url,
        natsUrl: knobs.natsUrl,
        natsNamespace: namespace,
        ...(knobs.engineResultConcurrency !== undefined ? { resultConcurrency: knobs.engineResultConcurrency } : {}),
        ...(knobs.engineStepBatch !== undefined ? { stepBatch: knobs.engineStepBatch } : {}),
        nodeArgs: knobs.engineNodeArgs,
      });
      // Signed with the key the engine process was given (ServiceProcess passes the test key): the
      // engine verifies every result it consumes, and the responder every request it reads.
      bus = await connectBus({ url: knobs.natsUrl, name: 'bench-engine', logger: createSilentLogger(), namespace, signing: { key: testBusSigningKey } });
      console.log(`workflow-engine: ${knobs.engineMain} (pid ${engine.pid}) at ${engine.address}, database ${engineDb.name}, NATS namespace ${namespace}`);
    }
    const engineSettings =
      `, result concurrency ${knobs.engineResultConcurrency ?? 'default (16)'}, step batch ${knobs.engineStepBatch ?? 'default (64)'}, ` +
      'streams on file storage, log level info';
    for (const system of knobs.systems) {
      let target: RunTarget;
      let role: BenchEntry['role'] = TargetRoles.ours;
      if (system === 'engine-activities') {
        target = await createWorkflowEngineActivitiesTarget({ address: engine!.address, bus: bus!, responderConcurrency: knobs.concurrency, engineSettings });
      } else if (system === 'engine-signals') {
        target = await createWorkflowEngineSignalsTarget(engine!.address);
      } else if (system === 'floor') {
        const db = await createTestDatabase('bench_engine_floor');
        databases.push(db);
        target = await createXStateFloorTarget(db.url);
        role = TargetRoles.floor;
      } else {
        const db = await createTestDatabase('bench_engine_langgraph');
        databases.push(db);
        target = await createLangGraphTarget(db.url, system === 'langgraph-sync' ? 'sync' : 'async');
        role = TargetRoles.peer;
      }
      targets.push(target);
      entries.push({ role, target });
    }
    console.log(
      `phases: ${knobs.warmupRuns} warm-up runs, ${knobs.sequentialRuns} sequential, ${knobs.concurrentRuns} at ${knobs.concurrency} in flight; ` +
        `each gives up starting runs after ${knobs.phaseBudgetMs / 1000} s`,
    );
    const results = await runEngineBench(entries, knobs, (line) => console.log(line));
    printTable(results, knobs.concurrency, (line) => console.log(line));
    printAims(results, (line) => console.log(line));
  } finally {
    for (const target of targets) await target.close().catch((err: unknown) => console.error('close failed', err));
    await engine?.stop();
    if (bus !== undefined) {
      await deleteStreams(bus);
      await bus.close();
    }
    for (const db of databases) await db.drop().catch((err: unknown) => console.error(`could not drop ${db.name}`, err));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
