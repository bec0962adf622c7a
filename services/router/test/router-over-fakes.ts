/**
 * The router as a real gRPC server over local fake provider servers (DeepSeek's OpenAI-compatible
 * wire and Gemini's), a fresh PostgreSQL usage ledger and a namespaced bus, with its log lines
 * kept for the test to read: what the provider integration tests share. The fakes replay what the
 * test's reply functions return; nothing here is a model.
 */
import { Writable } from 'node:stream';
import { credentials } from '@grpc/grpc-js';
import { RouterServiceClient, Streams } from '@maestro/contracts';
import { connectBus, type Bus } from '@maestro/bus';
import { createDb, type Kysely } from '@maestro/db';
import type { CompletionRequest, CompletionResult } from '@maestro/llm';
import { createLogger, createSilentLogger, type Clock, type GrpcServer } from '@maestro/runtime';
import { createTestDatabase, startFakeGeminiServer, startFakeOpenAIServer, testNamespace, testServers, type FakeGeminiServer, type FakeOpenAIServer, type TestDatabase } from '@maestro/testing';
import { loadRouterConfig } from '../src/config.js';
import { createRouterServer } from '../src/router-server.js';
import { migrateRouterSchema } from '../src/store/migrations.js';
import { PostgresUsageLedger, type RouterDatabase } from '../src/store/postgres-usage-ledger.js';

/** What a fake provider answers one request with. */
export type FakeReply = (request: CompletionRequest) => Promise<CompletionResult>;

/** Options of {@link startRouterOverFakes}. */
export interface RouterOverFakesOptions {
  /** Names the test database and the bus connection. */
  name: string;
  deepseekReply: FakeReply;
  geminiReply: FakeReply;
  /** The router's settings besides its address and the fakes' base URLs (models, keys, retries). */
  env: Record<string, string>;
  /** What the router's retries wait on. @default the system clock */
  clock?: Clock;
  /** @default 4 */
  maxConnections?: number;
}

/** A started router and what stands around it. */
export interface RouterOverFakes {
  client: RouterServiceClient;
  ledger: PostgresUsageLedger;
  bus: Bus;
  deepseek: FakeOpenAIServer;
  gemini: FakeGeminiServer;
  /** Every log line the router wrote (level debug), parsed. */
  logLines: Array<Record<string, unknown>>;
  /** The same lines as written. */
  logText: string[];
  stop(): Promise<void>;
}

/** Starts the fakes, the ledger's database, the bus and the router; `stop` undoes all of it. */
export async function startRouterOverFakes(options: RouterOverFakesOptions): Promise<RouterOverFakes> {
  const deepseek = await startFakeOpenAIServer({ reply: (request) => options.deepseekReply(request) });
  const gemini = await startFakeGeminiServer({ reply: (request) => options.geminiReply(request) });
  const database: TestDatabase = await createTestDatabase(`${options.name.replace(/-/g, '_')}_test`);
  const db: Kysely<RouterDatabase> = createDb<RouterDatabase>({ url: database.url, maxConnections: options.maxConnections ?? 4 });
  await migrateRouterSchema(db, createSilentLogger());
  const ledger = new PostgresUsageLedger(db);
  const bus = await connectBus({ url: testServers.natsUrl, name: options.name, logger: createSilentLogger(), namespace: testNamespace(), streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  const config = loadRouterConfig({
    MAESTRO_ROUTER_GRPC_ADDR: '127.0.0.1:0',
    MAESTRO_DEEPSEEK_BASE_URL: deepseek.openaiBaseUrl,
    MAESTRO_GEMINI_BASE_URL: gemini.baseUrl,
    ...options.env,
  });
  const logLines: Array<Record<string, unknown>> = [];
  const logText: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logText.push(chunk.toString('utf8'));
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ service: 'router', level: 'debug', destination });
  const { server }: { server: GrpcServer } = createRouterServer(config, { ledger, bus, logger, ...(options.clock !== undefined ? { clock: options.clock } : {}) });
  const port = await server.start();
  const client = new RouterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    client,
    ledger,
    bus,
    deepseek,
    gemini,
    logLines,
    logText,
    async stop() {
      client.close();
      await server.shutdown();
      await db.destroy();
      await database.drop();
      for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
      await bus.close();
      await deepseek.close();
      await gemini.close();
    },
  };
}
