/**
 * Integration-test harness: a scratch PostgreSQL database with the orchestrator schema, a bus
 * in a random namespace on the real NATS server, and small real gRPC servers standing in for
 * the *other* services (workflow-engine, router, memory) with fixed answers. Orion itself runs
 * for real on top.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connectBus, type Bus, type WorkConsumer } from '@maestro/bus';
import { classifyIntent } from '@maestro/intent';
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
  CompleteResponse,
  type ClassifyIntentRequest,
  type IntentClassification,
  type GetRunRequest,
  type LearnRequest,
  type LearnResponse,
  Memory,
  type RecallRequest,
  type RecallResponse,
  type Run,
  type RecordRunNoteRequest,
  type SendEventRequest,
  type Transition,
  type StartRunRequest,
  type SubtaskWork,
} from '@maestro/contracts';
import {
  createGrpcClient,
  createGrpcServer,
  createSilentLogger,
  invalidField,
  OperationalError,
  systemClock,
  unary,
  UserError,
  type GrpcClient,
  type GrpcServer,
  type LogFields,
  type Logger,
} from '@maestro/runtime';
import { createSandboxFromSettings } from '@maestro/agent';
import { createDb, migrateToLatest, sql, type Kysely, type Migration } from '@maestro/db';
import { createTestDatabase, testNamespace, testServerUrl, testServers } from '@maestro/testing';
import pg from 'pg';
import type { WorkflowPort } from '../src/domain/ports.js';
import { createOrchestrator, type Orchestrator, type OrchestratorDeps } from '../src/orchestrator.js';
import { FsRepoProbe } from '../src/store/fs-repo-probe.js';
import { orchestratorMigrations } from '../src/store/migrations.js';
import { PostgresAgentStepStore } from '../src/store/postgres-agent-step-store.js';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from '../src/store/schema.js';

/** One line Orion logged. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** A logger that keeps every line (with its bindings) in `lines`, so tests can check levels. */
export function recordingLogger(lines: LogLine[], bindings: LogFields = {}): Logger {
  const at =
    (level: LogLine['level']) =>
    (message: string, fields: LogFields = {}): void => {
      lines.push({ level, message, fields: { ...bindings, ...fields } });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

/** Resolves once `predicate` holds (polls; the test's timeout bounds it). */
export async function eventually<T>(probe: () => Promise<T> | T, predicate: (value: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 3000; i++) {
    last = await probe();
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
}

/**
 * A database of its own for one test file, migrated, dropped by `drop()`. `migrations` defaults
 * to all of them; a test of an upgrade passes the earlier ones and applies the rest itself.
 */
export async function createScratchDatabase(
  migrations: Record<string, Migration> = orchestratorMigrations,
): Promise<{ db: Kysely<OrchestratorDatabase>; drop(): Promise<void> }> {
  const scratch = await createTestDatabase('orchestrator_test');
  const db = createDb<OrchestratorDatabase>({ url: scratch.url, maxConnections: 5, applicationName: 'orchestrator-test' });
  // migrateToLatest takes Kysely<unknown>, which a typed Kysely is not assignable to.
  await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations, logger: createSilentLogger() });
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
export async function countRows(db: Kysely<OrchestratorDatabase>, table: 'tasks' | 'subtasks' | 'agent_steps'): Promise<number> {
  const result = await sql<{ n: string }>`select count(*) as n from ${sql.table(`${ORCHESTRATOR_SCHEMA}.${table}`)}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/** A git repository in a temp dir, with the given files committed. */
export async function createGitRepo(files: Record<string, string>): Promise<{ dir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'orchestrator-repo-'));
  const dir = path.join(root, 'calc');
  await mkdir(dir);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  commitAll(dir);
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

/** `git init` in `dir` (created if missing) and one commit of everything in it. */
export function commitAll(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, 'add', '-A']);
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init']);
  return dir;
}

/** A git repository at `dir` with one commit: an npm package whose tests are `node --test`. */
export function calcRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'calc', scripts: { test: 'node --test' } }));
  return commitAll(dir);
}

/** The workflow-engine stand-in: records StartRun / SendEvent and answers with fixed runs. */
export class FakeWorkflowEngine {
  readonly starts: StartRunRequest[] = [];
  readonly events: SendEventRequest[] = [];
  /** When set, StartRun fails with this error (creating nothing). */
  failStartWith: Error | undefined;
  /** When set, StartRun creates the run and then fails with this error (a lost answer). */
  failAfterCreatingWith: Error | undefined;
  /** When set, StartRun waits for it before creating the run (a call in flight). */
  startGate: Promise<void> | undefined;
  /** StartRun calls waiting at the gate. */
  waitingAtGate = 0;
  private readonly runs = new Map<string, string>();
  /** The notes recorded with RecordRunNote, once per run and note id. */
  readonly notes: RecordRunNoteRequest[] = [];
  /** What GetRun reports for a run id (a run not listed is NOT_FOUND). */
  readonly runStatuses = new Map<string, string>();
  /** When set, a CANCEL sent with SendEvent waits for it before answering (the run's own events racing the answer). */
  beforeCancelAnswer: ((runId: string) => Promise<void>) | undefined;

  /** Holds StartRun calls until the returned function is called. */
  closeStartGate(): () => void {
    let open!: () => void;
    this.startGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    return () => {
      this.startGate = undefined;
      open();
    };
  }

  /** The run created for an idempotency key (the task id), if any. */
  runFor(idempotencyKey: string): string | undefined {
    return this.runs.get(idempotencyKey);
  }

  register(server: GrpcServer): void {
    const run = (id: string, status: string): Run => ({
      tenant: 'default', id, definitionName: 'coding', definitionVersion: 1, status, state: 'intake', attempt: 1, context: {}, history: [],
      createdAt: new Date(), updatedAt: new Date(),
    });
    const notImplemented = unary(async () => {
      throw new Error('not part of the fake workflow engine');
    });
    server.add(WorkflowServiceService, {
      startRun: unary<StartRunRequest, Run>(async (request) => {
        if (this.startGate) {
          this.waitingAtGate++;
          await this.startGate;
          this.waitingAtGate--;
        }
        if (this.failStartWith) throw this.failStartWith;
        this.starts.push(request);
        const id = this.runs.get(request.idempotencyKey) ?? `run-${randomBytes(4).toString('hex')}`;
        this.runs.set(request.idempotencyKey, id);
        if (this.failAfterCreatingWith) throw this.failAfterCreatingWith;
        return run(id, 'running');
      }),
      sendEvent: unary<SendEventRequest, Run>(async (request) => {
        this.events.push(request);
        if (request.type === 'CANCEL') await this.beforeCancelAnswer?.(request.runId);
        return run(request.runId, request.type === 'CANCEL' ? 'cancelled' : 'running');
      }),
      recordRunNote: unary<RecordRunNoteRequest, Transition>(async (request) => {
        const seen = this.notes.find((n) => n.runId === request.runId && n.noteId === request.noteId);
        if (seen === undefined) this.notes.push(request);
        const recorded = seen ?? request;
        return { seq: this.notes.indexOf(recorded) + 1, fromState: 'code', toState: 'code', eventType: recorded.type, event: { ...recorded.data, note: true, noteId: recorded.noteId }, at: new Date(), note: true };
      }),
      putDefinition: notImplemented,
      getDefinition: notImplemented,
      listDefinitions: notImplemented,
      getRun: unary<GetRunRequest, Run>(async (request) => {
        const status = this.runStatuses.get(request.runId);
        if (status === undefined) throw new UserError('RUN_NOT_FOUND', `run ${request.runId} does not exist`, { reason: 'not_found' });
        return run(request.runId, status);
      }),
      listRuns: notImplemented,
      watchRun: notImplemented,
    });
  }
}

/**
 * A fixed reply of the fake router: one text; or one per turn, chosen like the scripted
 * provider does (turn n = the number of assistant messages already in the conversation); or a
 * function of the request.
 */
export type FakeReply = string | readonly string[] | ((request: CompleteRequest) => string | undefined);

function replyFor(reply: FakeReply | undefined, request: CompleteRequest): string | undefined {
  if (reply === undefined || typeof reply === 'string') return reply;
  if (typeof reply === 'function') return reply(request);
  return (reply as readonly string[])[request.messages.filter((m) => m.role === 'assistant').length];
}

/** The router stand-in: records Complete calls and answers with a reply chosen by intent. */
export class FakeRouter {
  readonly calls: CompleteRequest[] = [];
  /** Calls the client cancelled while they were held. */
  readonly cancelled: CompleteRequest[] = [];
  replies: Record<string, FakeReply> = {};
  /** When set for an intent, Complete fails with this error. */
  failures: Record<string, Error> = {};
  /** When true, Complete answers only after `release()` (or never, if the client cancels first). */
  hold = false;
  private readonly held: Array<() => void> = [];

  /** Lets held calls answer. */
  release(): void {
    this.hold = false;
    this.held.splice(0).forEach((answer) => answer());
  }

  register(server: GrpcServer): void {
    const notImplemented = unary(async () => {
      throw new Error('not part of the fake router');
    });
    server.add(RouterServiceService, {
      complete: unary<CompleteRequest, CompleteResponse>(async (request, ctx) => {
        this.calls.push(request);
        if (this.hold) {
          await new Promise<void>((resolve) => {
            this.held.push(resolve);
            ctx.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          if (ctx.signal.aborted) {
            this.cancelled.push(request);
            throw new OperationalError('CANCELLED', 'the client cancelled the call');
          }
        }
        const failure = this.failures[request.intent];
        if (failure !== undefined) throw failure;
        const reply = replyFor(this.replies[request.intent], request);
        if (reply === undefined) throw new OperationalError('NO_REPLY', `fake router has no reply for ${request.intent}`);
        return CompleteResponse.fromPartial({
          message: { role: 'assistant', content: reply },
          decision: { role: request.role, provider: 'fixture', model: 'fixed-replies', spec: 'fixture', reason: 'test double', scripted: true },
          usage: { inputTokens: 10, outputTokens: 10, costUsd: 0 },
          finishReason: 'stop',
        });
      }),
      route: notImplemented,
      streamComplete: notImplemented,
      // The real classifier, as the router runs it; every intent runs the coding workflow.
      classifyIntent: unary<ClassifyIntentRequest, IntentClassification>(async (request) => ({ ...classifyIntent(request.text), workflow: 'coding', decidedBy: 'rules' })),
      getTaskUsage: notImplemented,
      getModelStats: notImplemented,
    });
  }
}

/**
 * The memory stand-in: records Recall calls and returns fixed notes; records Learn calls and
 * answers `created` with a new id. Like the real memory service it refuses queries over 2,000
 * characters (INVALID_ARGUMENT), and returns a note of a `user:<id>` / `team:<id>` scope only to
 * a recall that names that scope (a note without one is the project's, always returned).
 */
export class FakeMemory {
  static readonly maxQueryLength = 2_000;
  readonly recalls: RecallRequest[] = [];
  notes: Array<{ kind: string; content: string; why?: string; scope?: string }> = [];
  /** When set, Recall fails with this error. */
  failWith: Error | undefined;
  /** Every Learn call, including those that failed. */
  readonly learns: LearnRequest[] = [];
  /** When set, Learn fails with this error. */
  learnFailWith: Error | undefined;

  register(server: GrpcServer): void {
    const notImplemented = unary(async () => {
      throw new Error('not part of the fake memory');
    });
    server.add(MemoryServiceService, {
      recall: unary<RecallRequest, RecallResponse>(async (request) => {
        this.recalls.push(request);
        if (this.failWith) throw this.failWith;
        if (request.query.length > FakeMemory.maxQueryLength) {
          throw invalidField('query', `must be at most ${FakeMemory.maxQueryLength} characters, got ${request.query.length}`);
        }
        const applies = (n: { scope?: string }) => n.scope === undefined || n.scope === 'project' || request.scopes.includes(n.scope);
        return {
          memories: this.notes.flatMap((n, i) => (applies(n) ? [{ n, i }] : [])).map(({ n, i }) => ({
            memory: Memory.fromPartial({ id: `m${i}`, project: request.project, kind: n.kind, content: n.content, scope: n.scope ?? 'project', createdAt: new Date(), status: 'active' }),
            score: 1 - i / 10,
            why: n.why ?? `keyword rank ${i + 1}`,
            keywordRank: i + 1,
            vectorRank: 0,
          })),
          warning: '',
          vectorSearch: 'none',
        };
      }),
      learn: unary<LearnRequest, LearnResponse>(async (request) => {
        this.learns.push(request);
        if (this.learnFailWith) throw this.learnFailWith;
        const memory = Memory.fromPartial({
          id: `reflex-${this.learns.length}`, project: request.project, kind: 'reflex', content: request.content, topic: request.topic,
          author: request.author, provenance: request.provenance, status: 'active', confidence: 0.6, confirmations: 1, createdAt: new Date(),
        });
        return { memory, outcome: 'created', supersededIds: [] };
      }),
      remember: notImplemented,
      forget: notImplemented,
      list: notImplemented,
      update: notImplemented,
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
  /** A client of the fake engine, as Orion's WorkflowPort. */
  workflowPort: WorkflowPort;
  router: FakeRouter;
  memory: FakeMemory;
  /** `ActivityResult`s Orion published. */
  results: Collector<ActivityResult>;
  /** `SubtaskWork` Orion dispatched. */
  subtaskWork: Collector<SubtaskWork>;
  /** Every line Orion logged. */
  logs: LogLine[];
  /** Waits until a durable consumer of Orion has no pending or unacked messages. */
  settled(stream: string, durable: string): Promise<void>;
  /** Starts another Orion replica on the same database, bus and peers (stopped by `close`). */
  startReplica(): Promise<Orchestrator>;
  close(): Promise<void>;
}

/** Orion's options a test may set. */
export type HarnessOptions = Pick<OrchestratorDeps, 'drainTimeoutMs' | 'startRetryDelaysMs' | 'inlineStartMs' | 'escalationLimits' | 'activityOptions' | 'reflexes'> &
  // Default: the temp directory, where createGitRepo makes repositories.
  Partial<Pick<OrchestratorDeps, 'repoRoots'>>;

/** Starts the harness: scratch database, namespaced bus, fakes, and Orion itself. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const logger = createSilentLogger();
  const logs: LogLine[] = [];
  const { db, drop } = await createScratchDatabase();
  const namespace = testNamespace('orch');
  // Activities log through their delivery's logger, a child of the bus's: record it too.
  const bus = await connectBus({
    url: testServers.natsUrl,
    name: `orchestrator-test-${namespace}`,
    logger: recordingLogger(logs, { component: 'bus' }),
    namespace,
    streamLimits: { storage: 'memory' },
  });
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
  const routerClient = createGrpcClient(RouterServiceClient, peerAddr, { deadlineMs: 180_000 });
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
  // The same ports main.ts plugs in, so cancellation on shutdown is exercised for real.
  const replicas: Orchestrator[] = [];
  const startOrchestrator = async (): Promise<{ orchestrator: Orchestrator; port: number }> => {
    const orchestrator = createOrchestrator({
      logger: recordingLogger(logs, { replica: replicas.length }),
      clock: systemClock,
      store: new PostgresTaskStore(db),
      steps: new PostgresAgentStepStore(db),
      repoProbe: new FsRepoProbe(),
      bus: recordingBus,
      router: routerClient.call,
      memory: memoryClient.call,
      workflow: workflowClient.call,
      grpcAddress: '127.0.0.1:0',
      concurrency: 2,
      startRetryDelaysMs: [20, 20, 50, 100, 100, 100, 100, 100],
      // Test repositories are made under the temp directory (see makeRepo).
      repoRoots: [realpathSync(os.tmpdir())],
      // The baseline runs in the real sandbox, as in production.
      sandbox: await createSandboxFromSettings({}, createSilentLogger()),
      ...options,
    });
    replicas.push(orchestrator);
    return { orchestrator, port: await orchestrator.start() };
  };
  const { orchestrator, port } = await startOrchestrator();
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
    bus, published, db, orchestrator, client, workflow, workflowPort: workflowClient.call, router, memory, results, subtaskWork, logs,
    startReplica: async () => (await startOrchestrator()).orchestrator,
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
      for (const replica of replicas) await replica.stop();
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
