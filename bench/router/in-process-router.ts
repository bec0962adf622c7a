/**
 * The router under test, wired in this process the way `services/router/src/main.ts` wires it:
 * `loadRouterConfig` → `createRouterServer` over a `PostgresUsageLedger` (a fresh database,
 * migrated) and a real NATS connection (a bus namespace of its own), serving gRPC on
 * 127.0.0.1 and called through the generated `RouterServiceClient`. Both tiers are
 * `deepseek:deepseek-chat` pointed at the fake upstream, so every Complete goes through the
 * real OpenAI-compatible adapter. What a Complete pays for on top of the SDK call: gRPC both
 * ways, request validation, the routing decision, the budget check (a sum over the task's
 * ledger rows), the resilience layer, pricing, the ledger insert and the `llm.completed`
 * event (a JetStream publish, acknowledged). The gRPC floor, the two ledger queries and the
 * publish can also be timed alone, on the same connections.
 *
 * The router is a service, not a library: it has no index, so its modules are imported from
 * its build output (`@maestro/router/dist/…`, built by the `router` script first).
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { connectBus, type Bus } from '@maestro/bus';
import {
  HealthClient,
  LlmCompletedEventSchema,
  RouterServiceClient,
  Streams,
  Subjects,
  type CompleteRequest,
  type CompleteResponse,
  type IntentClassification,
  type RouteDecision,
  type RouteRequest,
} from '@maestro/contracts';
import { createDb, sql, type Kysely } from '@maestro/db';
import { createLogger, createSilentLogger, type GrpcServer, type Logger, type LogLevel } from '@maestro/runtime';
import { createTestDatabase, type TestDatabase } from '@maestro/testing';
import { loadRouterConfig } from '@maestro/router/dist/config.js';
import { createRouterServer, type RouterServer } from '@maestro/router/dist/router-server.js';
import { migrateRouterSchema } from '@maestro/router/dist/store/migrations.js';
import { PostgresUsageLedger, type RouterDatabase } from '@maestro/router/dist/store/postgres-usage-ledger.js';
import { BENCH_MODEL, BENCH_PROTO_MESSAGES } from './conversation.js';

/** Options for {@link InProcessRouter}. */
export interface InProcessRouterOptions {
  /** The fake upstream's OpenAI base URL (`MAESTRO_DEEPSEEK_BASE_URL`). */
  upstreamUrl: string;
  natsUrl: string;
  /** Storage of the namespaced streams (production uses file). */
  streamStorage: 'memory' | 'file';
  /** `silent`, or a pino level whose lines are formatted and then discarded (the cost of logging). */
  logLevel: LogLevel;
  /** Deadline of every gRPC call. */
  deadlineMs: number;
}

/** What the bench checks after a run: every Complete left its traces. */
export interface RouterTraces {
  ledgerRows: number;
  eventsStored: number;
}

/** The router in this process, started by {@link start} and torn down (database, streams) by {@link stop}. */
export class InProcessRouter {
  readonly system = 'router Complete (gRPC)';
  /** One task for every call: the budget check sums this task's rows, as it does mid-task. */
  private readonly taskId = `bench-task-${randomUUID()}`;
  /** The task of the ledger inserts timed alone, kept apart so they do not grow the bench task. */
  private readonly probeTaskId = `bench-probe-${randomUUID()}`;
  private database: TestDatabase | undefined;
  private db: Kysely<RouterDatabase> | undefined;
  private bus: Bus | undefined;
  private server: GrpcServer | undefined;
  private client: RouterServiceClient | undefined;
  private health: HealthClient | undefined;
  private ledger: PostgresUsageLedger | undefined;
  private router: RouterServer | undefined;

  constructor(private readonly options: InProcessRouterOptions) {}

  /** The completion service behind the RPCs, for in-process routing decisions. */
  get completions(): RouterServer['completions'] {
    if (this.router === undefined) throw new Error('the router is not started');
    return this.router.completions;
  }

  async start(): Promise<void> {
    this.database = await createTestDatabase('bench_router');
    const config = loadRouterConfig({
      MAESTRO_STRATEGIC_MODEL: `deepseek:${BENCH_MODEL}`,
      MAESTRO_TACTICAL_MODEL: `deepseek:${BENCH_MODEL}`,
      DEEPSEEK_API_KEY: 'bench',
      MAESTRO_DEEPSEEK_BASE_URL: this.options.upstreamUrl,
      MAESTRO_ROUTER_GRPC_ADDR: '127.0.0.1:0',
      MAESTRO_DATABASE_URL: this.database.url,
      MAESTRO_NATS_URL: this.options.natsUrl,
    });
    const logger = benchLogger(this.options.logLevel);
    // As main.ts: the default pool, named after the service.
    this.db = createDb<RouterDatabase>({ url: this.database.url, applicationName: 'router' });
    await migrateRouterSchema(this.db, createSilentLogger());
    this.bus = await connectBus({
      url: this.options.natsUrl,
      name: 'bench-router',
      logger: createSilentLogger(),
      namespace: `benchrt${randomUUID().replace(/-/g, '').slice(0, 8)}`,
      streamLimits: { storage: this.options.streamStorage },
    });
    await this.bus.ensureStreams();
    this.ledger = new PostgresUsageLedger(this.db);
    this.router = createRouterServer(config, { ledger: this.ledger, bus: this.bus, logger });
    this.server = this.router.server;
    const port = await this.server.start();
    this.client = new RouterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    this.health = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  }

  /** One Complete through gRPC: a coding turn of the bench task, with a budget so the ledger sum runs. */
  async complete(): Promise<void> {
    const request: CompleteRequest = {
      role: '',
      intent: 'code',
      messages: BENCH_PROTO_MESSAGES,
      tools: [],
      maxOutputTokens: 0,
      taskId: this.taskId,
      runId: 'bench-run',
      subtaskId: 'bench-subtask',
      budgetUsd: 1_000_000,
      budgetTokens: 0,
      attempt: 1,
      taskIntent: '',
    };
    const response = await this.unary<CompleteRequest, CompleteResponse>((client, md, opts, cb) => client.complete(request, md, opts, cb));
    if (response.decision?.provider !== 'deepseek' || response.message?.content === undefined || response.message.content === '') {
      throw new Error(`router Complete: unexpected response ${JSON.stringify(response)}`);
    }
  }

  /** One Route RPC. */
  async route(request: RouteRequest): Promise<RouteDecision> {
    return this.unary<RouteRequest, RouteDecision>((client, md, opts, cb) => client.route(request, md, opts, cb));
  }

  /** One ClassifyIntent RPC. */
  async classifyIntent(text: string): Promise<IntentClassification> {
    return this.unary<{ text: string }, IntentClassification>((client, md, opts, cb) => client.classifyIntent({ text }, md, opts, cb));
  }

  /** A gRPC round trip that does no work (`grpc.health.v1.Health/Check`): the floor under every RPC. */
  async healthCheck(): Promise<void> {
    const health = this.health;
    if (health === undefined) throw new Error('the router is not started');
    await new Promise<void>((resolve, reject) => {
      health.check({ service: '' }, new Metadata(), { deadline: Date.now() + this.options.deadlineMs }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The budget check's query alone: the sum over the bench task's ledger rows. */
  async ledgerSpend(): Promise<void> {
    await this.ledger!.taskSpend(this.taskId);
  }

  /** The ledger insert alone: one row like a Complete's, for a task of its own. */
  async ledgerInsert(): Promise<void> {
    await this.ledger!.record({
      at: new Date(),
      taskId: this.probeTaskId,
      runId: 'bench-run',
      subtaskId: 'bench-subtask',
      attempt: 1,
      phase: 'code',
      role: 'tactical',
      spec: `deepseek:${BENCH_MODEL}`,
      scripted: true,
      inputTokens: 38,
      cachedInputTokens: 0,
      outputTokens: 21,
      reasoningTokens: 0,
      costUsd: 0.00002,
      latencyMs: 1,
      ok: true,
    });
  }

  /** The `llm.completed` publish alone (schema check, JetStream publish, ack), as the router's publisher does it. */
  async publishEvent(): Promise<void> {
    const event = LlmCompletedEventSchema.parse({
      role: 'tactical',
      intent: 'code',
      provider: 'deepseek',
      model: BENCH_MODEL,
      scripted: true,
      inputTokens: 38,
      outputTokens: 21,
      costUsd: 0.00002,
      priced: true,
      durationMs: 1,
      taskId: this.probeTaskId,
      runId: 'bench-run',
      subtaskId: 'bench-subtask',
      at: new Date().toISOString(),
    });
    await this.bus!.publishEvent(Subjects.llmCompleted, event);
  }

  /** Rows in the usage ledger and messages in the events stream, counted after the runs. */
  async traces(): Promise<RouterTraces> {
    const rows = await sql<{ n: number }>`select count(*)::int as n from router.model_calls`.execute(this.db!);
    const bus = this.bus!;
    const events = await bus.jsm.streams.info(bus.namespace.stream(Streams.events.name));
    return { ledgerRows: rows.rows[0]?.n ?? 0, eventsStored: events.state.messages };
  }

  /** Closes the client and server, drops the database and deletes the namespaced streams. */
  async stop(): Promise<void> {
    this.client?.close();
    this.health?.close();
    await this.server?.shutdown();
    await this.db?.destroy();
    await this.database?.drop();
    const bus = this.bus;
    if (bus !== undefined) {
      for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
      await bus.close();
    }
    this.client = undefined;
    this.health = undefined;
    this.ledger = undefined;
    this.server = undefined;
    this.db = undefined;
    this.database = undefined;
    this.bus = undefined;
    this.router = undefined;
  }

  private unary<Req, Res>(
    call: (
      client: RouterServiceClient,
      metadata: Metadata,
      options: { deadline: number },
      callback: (err: ServiceError | null, response: Res) => void,
    ) => unknown,
  ): Promise<Res> {
    const client = this.client;
    if (client === undefined) return Promise.reject(new Error('the router is not started'));
    return new Promise<Res>((resolve, reject) => {
      call(client, new Metadata(), { deadline: Date.now() + this.options.deadlineMs }, (err, response) => (err ? reject(err) : resolve(response)));
    });
  }
}

/** A silent logger, or a real pino logger at `level` writing to a sink that drops every line. */
function benchLogger(level: LogLevel): Logger {
  if (level === 'silent') return createSilentLogger();
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return createLogger({ service: 'router', level, destination: sink });
}
