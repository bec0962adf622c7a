/**
 * Smoke test of the engine benchmark: each of its systems runs a few runs end to end on the real
 * PostgreSQL and NATS and yields figures. The workflow-engine is wired in this process from the
 * service's public index (as `main.ts` wires it, gRPC on a free port) so the test needs no
 * build; `run.ts` starts the real binary instead. No timing is asserted.
 */
import { connectBus, type Bus } from '@maestro/bus';
import { Streams, WorkflowServiceService } from '@maestro/contracts';
import { createDb, type Kysely } from '@maestro/db';
import { createGrpcServer, createSilentLogger, type GrpcServer } from '@maestro/runtime';
import { createTestDatabase, testNamespace, testServers, type TestDatabase } from '@maestro/testing';
import {
  createWorkflowEngine,
  createWorkflowHandlers,
  migrateWorkflowSchema,
  NatsRunEventsPublisher,
  PostgresRunStore,
  startActivityResultSubscriber,
  type WorkflowDatabase,
  type WorkflowEngine,
} from '../../services/workflow-engine/src/index.js';
import { runEngineBench, TargetRoles, type BenchEntry, type BenchResult } from './engine-bench.js';
import { createLangGraphTarget } from './langgraph-target.js';
import { printAims, printTable } from './report.js';
import { STEPS_PER_RUN, type RunTarget } from './run-target.js';
import { createWorkflowEngineActivitiesTarget } from './workflow-engine-activities-target.js';
import { createWorkflowEngineSignalsTarget } from './workflow-engine-signals-target.js';
import { createXStateFloorTarget } from './xstate-floor-target.js';

const logger = createSilentLogger();
const databases: TestDatabase[] = [];
const targets: RunTarget[] = [];
let engineDb: Kysely<WorkflowDatabase>;
let bus: Bus;
let engine: WorkflowEngine;
let results: { stop(): Promise<void> };
let server: GrpcServer;
let address: string;

async function freshDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  databases.push(db);
  return db;
}

beforeAll(async () => {
  const db = await freshDatabase('bench_engine_test');
  engineDb = createDb<WorkflowDatabase>({ url: db.url });
  await migrateWorkflowSchema(engineDb, logger);
  bus = await connectBus({ url: testServers.natsUrl, name: 'bench-engine-test', logger, namespace: testNamespace('be'), streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  engine = createWorkflowEngine({ store: new PostgresRunStore(engineDb), publisher: new NatsRunEventsPublisher(bus), logger });
  results = await startActivityResultSubscriber(bus, engine, { logger });
  server = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.WorkflowService'] });
  server.add(WorkflowServiceService, createWorkflowHandlers(engine));
  address = `127.0.0.1:${await server.start()}`;
});

afterAll(async () => {
  for (const target of targets) await target.close();
  await server?.shutdown();
  await results?.stop();
  await engine?.stop();
  if (bus !== undefined) {
    for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
    await bus.close();
  }
  await engineDb?.destroy();
  for (const db of databases) await db.drop();
});

function expectFigures(result: BenchResult, runs: { sequential: number; concurrent: number }): void {
  for (const phase of ['sequential', 'concurrent'] as const) {
    const p = result[phase];
    expect({ name: result.name, phase, errors: p.errors, firstError: p.firstError }).toEqual({ name: result.name, phase, errors: 0, firstError: undefined });
    expect(p.finished).toBe(true);
    expect(p.runs).toBe(runs[phase]);
    expect(p.steps).toBe(runs[phase] * STEPS_PER_RUN);
    for (const figure of [p.runsPerSecond, p.stepsPerSecond, p.stepP50Ms, p.stepP99Ms, p.runP50Ms, p.runP99Ms]) {
      expect(Number.isFinite(figure)).toBe(true);
      expect(figure).toBeGreaterThan(0);
    }
    expect(p.stepsPerSecond).toBeCloseTo(p.runsPerSecond * STEPS_PER_RUN, 6);
  }
}

describe('engine bench', () => {
  it('runs the engine (activities and SendEvent), LangGraph.js and the XState floor with tiny counts and prints a table with the aim lines', async () => {
    const entries: BenchEntry[] = [];
    const add = (role: BenchEntry['role'], target: RunTarget): void => {
      targets.push(target);
      entries.push({ role, target });
    };
    add(TargetRoles.ours, await createWorkflowEngineActivitiesTarget({ address, bus, responderConcurrency: 2 }));
    add(TargetRoles.ours, await createWorkflowEngineSignalsTarget(address));
    add(TargetRoles.peer, await createLangGraphTarget((await freshDatabase('bench_engine_test_lg')).url, 'sync'));
    add(TargetRoles.floor, await createXStateFloorTarget((await freshDatabase('bench_engine_test_floor')).url));

    const progress: string[] = [];
    const measured = await runEngineBench(entries, { sequentialRuns: 2, concurrentRuns: 4, concurrency: 2, warmupRuns: 1, phaseBudgetMs: 60_000 }, (line) => progress.push(line));
    expect(measured.map((r) => r.role)).toEqual(['ours', 'ours', 'peer', 'floor']);
    for (const result of measured) expectFigures(result, { sequential: 2, concurrent: 4 });
    expect(progress).toHaveLength(8);

    // Every run went through the engine: 1 warm-up + 2 + 4 runs of each definition, all done with four transitions.
    expect((await engine.listRuns({ limit: 500, status: 'done' })).runs).toHaveLength(14);

    const lines: string[] = [];
    printTable(measured, 2, (line) => lines.push(line));
    printAims(measured, (line) => lines.push(line));
    const text = lines.join('\n');
    for (const result of measured) expect(text).toContain(`| ${result.name} | 1 (sequential) | 2 |`);
    expect(text).toMatch(/sequential, CodeMaestro workflow-engine, activities .*× LangGraph\.js .* of the floor/);
    expect(text).toMatch(/concurrent, CodeMaestro workflow-engine, SendEvent .*× LangGraph\.js .* of the floor/);
  });
});
