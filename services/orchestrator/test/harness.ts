/**
 * Integration-test harness: a scratch PostgreSQL database with the orchestrator schema, a bus
 * in a random namespace on the real NATS server, and small real gRPC servers standing in for
 * the *other* services (workflow-engine, router, memory) with fixed answers. Orion itself runs
 * for real on top.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connectBus, type Bus, type WorkConsumer } from '@maestro/bus';
import {
  ActivityResultSchema,
  MemoryServiceClient,
  MemoryServiceService,
  OrchestratorServiceClient,
  RouterServiceClient,
  RouterServiceService,
  Streams,
  SubtaskWorkSchema,
  WorkflowServiceClient,
  WorkflowServiceService,
  type ActivityResult,
  type CompleteRequest,
  type CompleteResponse,
  type RecallRequest,
  type RecallResponse,
  type Run,
  type SendEventRequest,
  type StartRunRequest,
  type SubtaskWork,
} from '@maestro/contracts';
import {
  createGrpcClient,
  createGrpcServer,
  createSilentLogger,
  OperationalError,
  systemClock,
  unary,
  type GrpcClient,
  type GrpcServer,
} from '@maestro/runtime';
import { createDb, migrateToLatest, sql, type Kysely } from '@maestro/db';
import { createTestDatabase, testNamespace, testServerUrl, testServers } from '@maestro/testing';
import pg from 'pg';
import { createOrchestrator, type Orchestrator } from '../src/orchestrator.js';
import { FsRepoProbe } from '../src/store/fs-repo-probe.js';
import { orchestratorMigrations } from '../src/store/migrations.js';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from '../src/store/schema.js';

/** A database of its own for one test file, migrated, dropped by `drop()`. */
export async function createScratchDatabase(): Promise<{ db: Kysely<OrchestratorDatabase>; drop(): Promise<void> }> {
  const scratch = await createTestDatabase('orchestrator_test');
  const db = createDb<OrchestratorDatabase>({ url: scratch.url, maxConnections: 5, applicationName: 'orchestrator-test' });
  // migrateToLatest takes Kysely<unknown>, which a typed Kysely is not assignable to.
  await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger: createSilentLogger() });
  return {
    db,
    async drop() {
      await db.destroy();
      // pg's pool.end() resolves before the server has seen every socket close; dropping with
      // (force) at that moment makes a closing client emit an unhandled error. Wait for the
      // backends to go first.
      const admin = new pg.Client({ connectionString: testServerUrl() });
      await admin.connect();
      try {
        for (let i = 0; i < 200; i++) {
          const { rows } = await admin.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [scratch.name]);
          if (Number(rows[0]?.n ?? 0) === 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        await admin.end();
      }
      await scratch.drop();
    },
  };
}

/** Counts the rows of an orchestrator table. */
export async function countRows(db: Kysely<OrchestratorDatabase>, table: 'tasks' | 'subtasks'): Promise<number> {
  const result = await sql<{ n: string }>`select count(*) as n from ${sql.table(`${ORCHESTRATOR_SCHEMA}.${table}`)}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/** A git repository in a temp dir, with the given files committed. */
export async function createGitRepo(files: Record<string, string>): Promise<{ dir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'orchestrator-repo-'));
  const dir = path.join(root, 'calc');
  await mkdir(dir);
  execFileSync('git', ['init', '-q', dir]);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  execFileSync('git', ['-C', dir, 'add', '-A']);
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init']);
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

/** The workflow-engine stand-in: records StartRun / SendEvent and answers with fixed runs. */
export class FakeWorkflowEngine {
  readonly starts: StartRunRequest[] = [];
  readonly events: SendEventRequest[] = [];
  /** When set, StartRun fails with this error. */
  failStartWith: Error | undefined;
  private readonly runs = new Map<string, string>();

  register(server: GrpcServer): void {
    const run = (id: string, status: string): Run => ({
      id, definitionName: 'coding', definitionVersion: 1, status, state: 'intake', attempt: 1, context: {}, history: [],
      createdAt: new Date(), updatedAt: new Date(),
    });
    const notImplemented = unary(async () => {
      throw new Error('not part of the fake workflow engine');
    });
    server.add(WorkflowServiceService, {
      startRun: unary<StartRunRequest, Run>(async (request) => {
        if (this.failStartWith) throw this.failStartWith;
        this.starts.push(request);
        const id = this.runs.get(request.idempotencyKey) ?? `run-${randomBytes(4).toString('hex')}`;
        this.runs.set(request.idempotencyKey, id);
        return run(id, 'running');
      }),
      sendEvent: unary<SendEventRequest, Run>(async (request) => {
        this.events.push(request);
        return run(request.runId, request.type === 'CANCEL' ? 'cancelled' : 'running');
      }),
      putDefinition: notImplemented,
      getDefinition: notImplemented,
      listDefinitions: notImplemented,
      getRun: notImplemented,
      listRuns: notImplemented,
      watchRun: notImplemented,
    });
  }
}

/** The router stand-in: records Complete calls and answers with a reply chosen by intent. */
export class FakeRouter {
  readonly calls: CompleteRequest[] = [];
  replies: Record<string, string> = {};

  register(server: GrpcServer): void {
    const notImplemented = unary(async () => {
      throw new Error('not part of the fake router');
    });
    server.add(RouterServiceService, {
      complete: unary<CompleteRequest, CompleteResponse>(async (request) => {
        this.calls.push(request);
        const reply = this.replies[request.intent];
        if (reply === undefined) throw new OperationalError('NO_REPLY', `fake router has no reply for ${request.intent}`);
        return {
          message: { role: 'assistant', content: reply, toolCalls: [], toolCallId: '', name: '' },
          decision: { role: request.role, provider: 'fixture', model: 'fixed-replies', reason: 'test double', scripted: true },
          usage: { inputTokens: 10, outputTokens: 10, costUsd: 0 },
          finishReason: 'stop',
        };
      }),
      route: notImplemented,
      streamComplete: notImplemented,
    });
  }
}

/** The memory stand-in: records Recall calls and returns fixed notes. */
export class FakeMemory {
  readonly recalls: RecallRequest[] = [];
  notes: Array<{ kind: string; content: string }> = [];

  register(server: GrpcServer): void {
    const notImplemented = unary(async () => {
      throw new Error('not part of the fake memory');
    });
    server.add(MemoryServiceService, {
      recall: unary<RecallRequest, RecallResponse>(async (request) => {
        this.recalls.push(request);
        return {
          memories: this.notes.map((n, i) => ({
            memory: { id: `m${i}`, project: request.project, kind: n.kind, content: n.content, tags: [], createdAt: new Date() },
            score: 1 - i / 10,
          })),
        };
      }),
      remember: notImplemented,
      forget: notImplemented,
      list: notImplemented,
    });
  }
}

/** Collects every message of one subject from a namespaced stream, through a durable consumer. */
export class Collector<T> {
  readonly items: T[] = [];
  consumer: WorkConsumer | undefined;

  /** Resolves once `predicate` holds for the collected items (polls; the test's timeout bounds it). */
  async waitFor(predicate: (items: T[]) => boolean, what: string): Promise<T[]> {
    for (let i = 0; i < 3000; i++) {
      if (predicate(this.items)) return this.items;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.items, null, 2)}`);
  }
}

/** Everything an integration test needs, started. */
export interface Harness {
  bus: Bus;
  /** Every publish Orion made (subject and message id), in order; they all reached NATS. */
  published: Array<{ subject: string; msgId: string | undefined; payload: unknown }>;
  db: Kysely<OrchestratorDatabase>;
  orchestrator: Orchestrator;
  client: GrpcClient<InstanceType<typeof OrchestratorServiceClient>>;
  workflow: FakeWorkflowEngine;
  router: FakeRouter;
  memory: FakeMemory;
  /** `ActivityResult`s Orion published. */
  results: Collector<ActivityResult>;
  /** `SubtaskWork` Orion dispatched. */
  subtaskWork: Collector<SubtaskWork>;
  /** Waits until a durable consumer of Orion has no pending or unacked messages. */
  settled(stream: string, durable: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the harness: scratch database, namespaced bus, fakes, and Orion itself. */
export async function startHarness(): Promise<Harness> {
  const logger = createSilentLogger();
  const { db, drop } = await createScratchDatabase();
  const namespace = testNamespace('orch');
  const bus = await connectBus({ url: testServers.natsUrl, name: `orchestrator-test-${namespace}`, logger, namespace, streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();

  const workflow = new FakeWorkflowEngine();
  const router = new FakeRouter();
  const memory = new FakeMemory();
  const peers = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: [] });
  workflow.register(peers);
  router.register(peers);
  memory.register(peers);
  const peerPort = await peers.start();
  const peerAddr = `127.0.0.1:${peerPort}`;
  const workflowClient = createGrpcClient(WorkflowServiceClient, peerAddr);
  const routerClient = createGrpcClient(RouterServiceClient, peerAddr);
  const memoryClient = createGrpcClient(MemoryServiceClient, peerAddr);

  // Orion publishes through the real bus; the harness only notes what it published, because
  // the stream's de-duplication would otherwise hide a second publish of the same result.
  const published: Harness['published'] = [];
  const recordingBus: Pick<Bus, 'consume' | 'publish' | 'publishEvent'> = {
    consume: (options) => bus.consume(options),
    publish: async (subject, payload, options) => {
      await bus.publish(subject, payload, options);
      published.push({ subject, msgId: options?.msgId, payload });
    },
    publishEvent: (subject, payload) => bus.publishEvent(subject, payload),
  };
  const orchestrator = createOrchestrator({
    logger,
    clock: systemClock,
    store: new PostgresTaskStore(db),
    repoProbe: new FsRepoProbe(),
    bus: recordingBus,
    router: routerClient.call,
    memory: memoryClient.call,
    workflow: workflowClient.call,
    grpcAddress: '127.0.0.1:0',
    concurrency: 2,
  });
  const port = await orchestrator.start();
  const client = createGrpcClient(OrchestratorServiceClient, `127.0.0.1:${port}`);

  const results = new Collector<ActivityResult>();
  results.consumer = await bus.consume({
    stream: Streams.results.name,
    durable: 'test-activity-results',
    filterSubject: 'maestro.results.activity',
    schema: ActivityResultSchema,
    handler: async (r) => {
      results.items.push(r);
    },
  });
  const subtaskWork = new Collector<SubtaskWork>();
  subtaskWork.consumer = await bus.consume({
    stream: Streams.work.name,
    durable: 'test-executor-work',
    filterSubject: 'maestro.work.executor.code',
    schema: SubtaskWorkSchema,
    handler: async (w) => {
      subtaskWork.items.push(w);
    },
  });

  return {
    bus, published, db, orchestrator, client, workflow, router, memory, results, subtaskWork,
    async settled(stream, durable) {
      for (let i = 0; i < 3000; i++) {
        const info = await bus.jsm.consumers.info(bus.namespace.stream(stream), bus.namespace.consumer(durable));
        if (info.num_pending === 0 && info.num_ack_pending === 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`consumer ${durable} did not settle`);
    },
    async close() {
      client.close();
      await orchestrator.stop();
      await results.consumer?.stop();
      await subtaskWork.consumer?.stop();
      for (const spec of Object.values(Streams)) {
        await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
      }
      await bus.close();
      workflowClient.close();
      routerClient.close();
      memoryClient.close();
      await peers.shutdown();
      await drop();
    },
  };
}
