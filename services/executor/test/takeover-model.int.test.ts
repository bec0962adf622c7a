/**
 * A subtask Orion took over after an escalation runs on the strategic model: the executor is
 * wired as `main.ts` wires it (`createExecutor` with the router's and the lock-manager's gRPC
 * clients, so each subtask's model is the executor's own `RouterChatModel`), against the real
 * router (its server in this process, both tiers the scripted provider under different model
 * names) and the real lock-manager (over Redis, a key prefix of its own), on the real NATS. A
 * work item dispatched with `role: 'strategic'` asks the router with role strategic on every
 * turn and is answered by the strategic model; a normal work item asks as tactical and is
 * answered by the tactical model. The router's own account (`maestro.events.llm.completed`)
 * says the same.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { connectBus, type Bus, type LiveSubscription } from '@maestro/bus';
import {
  LlmCompletedEventSchema,
  LockServiceClient,
  RouterServiceClient,
  Streams,
  Subjects,
  SubtaskResultSchema,
  type CompleteRequest,
  type CompleteResponse,
  type LlmCompletedEvent,
  type SubtaskResult,
  type SubtaskWork,
} from '@maestro/contracts';
import { createGrpcClient, createSilentLogger, Registry, type GrpcClient, type GrpcServer } from '@maestro/runtime';
import { testKeyPrefix, waitFor } from '@maestro/testing';
// The real router and lock-manager, wired in this process from their own sources (as bench/ and the gateway's tests do).
import { createLockManagerServer } from '../../lock-manager/src/lock-manager-server.js';
import { RedisLockStore, type RedisLockStoreOptions } from '../../lock-manager/src/store/redis-lock-store.js';
import { createBusLockEventPublisher } from '../../lock-manager/src/transport/nats/lock-event.publisher.js';
import { loadRouterConfig } from '../../router/src/config.js';
import { createRouterServer } from '../../router/src/router-server.js';
import { InMemoryUsageLedger } from '../../router/src/store/in-memory-usage-ledger.js';
import { KvWorkResultStore, WORK_RESULTS_BUCKET } from '../src/store/kv-work-result-store.js';
import type { RouterCompleteClient } from '../src/store/router-chat-model.js';
import { createExecutor, type Executor } from '../src/executor.js';
import { makeMathRepo, subtractWork, TEST_REPO_ROOTS } from './math-repo.js';

// The executor does not depend on ioredis; the lock-manager's own copy is borrowed for its store.
const { Redis } = createRequire(join(__dirname, '../../lock-manager/package.json'))('ioredis') as {
  Redis: new (url: string) => RedisLockStoreOptions['redis'];
};

const NATS_URL = 'nats://127.0.0.1:4222';
const REDIS_URL = 'redis://127.0.0.1:6379';
const logger = createSilentLogger();
/** The two tiers: one scripted provider, told apart by the model name each spec gives it. */
const STRATEGIC_MODEL = 'strategic-brain';
const TACTICAL_MODEL = 'tactical-coder';

jest.setTimeout(120_000);

/** The router's script: the three turns of "add subtract()" (write, commit, done), for either tier. */
const script = {
  description: 'take-over routing test: add subtract() to math.js and commit',
  rules: [
    {
      name: 'subtract',
      when: { intent: 'code', contains: 'Add subtract()' },
      turns: [
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'math.js', content: 'exports.add = (a, b) => a + b;\nexports.subtract = (a, b) => a - b;\n' } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add subtract()' } }] },
        { content: 'Added subtract() to math.js and committed it.' },
      ],
    },
  ],
};

/** One Complete the executor made through the router client: what it asked and what the router answered. */
interface RecordedCall {
  request: CompleteRequest;
  response: CompleteResponse;
}


describe('work Orion took over', () => {
  let dir: string;
  let bus: Bus;
  let routerServer: GrpcServer;
  let lockServer: GrpcServer;
  let redis: RedisLockStoreOptions['redis'];
  let lockStore: RedisLockStore;
  let routerClient: GrpcClient<RouterServiceClient>;
  let lockClient: GrpcClient<LockServiceClient>;
  let results: KvWorkResultStore;
  let executor: Executor | undefined;
  let worktreeRoot: string;
  let completed: LiveSubscription;
  const repos: string[] = [];
  const calls: RecordedCall[] = [];
  const llmEvents: LlmCompletedEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'executor-takeover-'));
    const scriptPath = join(dir, 'script.json');
    writeFileSync(scriptPath, JSON.stringify(script));
    worktreeRoot = mkdtempSync(join(tmpdir(), 'executor-takeover-wt-'));

    const namespace = `extko${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    bus = await connectBus({ url: NATS_URL, name: 'executor-takeover-test', logger, namespace, metrics: new Registry(), streamLimits: { storage: 'memory' } });
    await bus.ensureStreams();
    completed = bus.subscribe(Subjects.llmCompleted, LlmCompletedEventSchema, (event) => void llmEvents.push(event));
    await bus.connection.flush();
    results = await KvWorkResultStore.open(bus.connection, { bucket: bus.namespace.stream(WORK_RESULTS_BUCKET) });

    const routerConfig = loadRouterConfig({
      MAESTRO_STRATEGIC_MODEL: `scripted:${STRATEGIC_MODEL}`,
      MAESTRO_TACTICAL_MODEL: `scripted:${TACTICAL_MODEL}`,
      MAESTRO_SCRIPT_PATH: scriptPath,
      MAESTRO_ROUTER_GRPC_ADDR: '127.0.0.1:0',
    });
    ({ server: routerServer } = createRouterServer(routerConfig, { ledger: new InMemoryUsageLedger(), bus, logger, metrics: new Registry() }));
    const routerPort = await routerServer.start();

    redis = new Redis(REDIS_URL);
    lockStore = new RedisLockStore({ redis, keyPrefix: testKeyPrefix('executor-takeover'), logger });
    lockServer = createLockManagerServer({ address: '127.0.0.1:0', logger, store: lockStore, events: createBusLockEventPublisher(bus), metrics: new Registry() });
    const lockPort = await lockServer.start();

    routerClient = createGrpcClient(RouterServiceClient, `127.0.0.1:${routerPort}`, { deadlineMs: 30_000 });
    lockClient = createGrpcClient(LockServiceClient, `127.0.0.1:${lockPort}`, { deadlineMs: 30_000 });
    // The router client as the executor gets it, recording each call on its way through.
    const router: RouterCompleteClient = {
      complete: async (request, options) => {
        const response = await routerClient.call.complete(request, options);
        calls.push({ request, response });
        return response;
      },
    };

    executor = await createExecutor({
      settings: { executorId: 'exec-takeover', concurrency: 1, maxSteps: 10, maxDeliver: 2, ackWaitMs: 30_000, lockTtlMs: 60_000, worktreeRoot, repoRoots: TEST_REPO_ROOTS },
      bus,
      logger,
      results,
      router,
      locks: lockClient.call,
    });
    await executor.start();
  });

  afterAll(async () => {
    await executor?.shutdown(5_000);
    completed?.unsubscribe();
    routerClient?.close();
    lockClient?.close();
    await routerServer?.shutdown();
    await lockServer?.shutdown();
    await lockStore?.close();
    redis?.disconnect();
    await results?.destroy().catch(() => undefined);
    if (bus) {
      for (const s of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(s.name)).catch(() => undefined);
      await bus.close();
    }
    for (const path of [dir, worktreeRoot, ...repos]) if (path) rmSync(path, { recursive: true, force: true });
  });

  async function resultOf(work: SubtaskWork): Promise<SubtaskResult> {
    return waitFor(`the result of ${work.subtaskId}`, async () => {
      const info = await bus.jsm.streams.info(bus.namespace.stream(Streams.results.name));
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const msg = await bus.jsm.streams.getMessage(bus.namespace.stream(Streams.results.name), { seq }).catch(() => null);
        const result = msg ? SubtaskResultSchema.parse(msg.json()) : undefined;
        if (result?.workId === work.workId) return result;
      }
      return undefined;
    });
  }

  /** Runs `work` to its result, in a repository of its own. */
  async function run(overrides: Partial<SubtaskWork>): Promise<{ work: SubtaskWork; result: SubtaskResult }> {
    const repo = makeMathRepo('executor-takeover-repo-');
    repos.push(repo);
    const work = subtractWork(repo, { taskId: `task-${randomUUID().slice(0, 8)}`, runId: `run-${randomUUID().slice(0, 8)}`, ...overrides });
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    return { work, result: await resultOf(work) };
  }

  const callsOf = (work: SubtaskWork) => calls.filter((c) => c.request.subtaskId === work.subtaskId);

  it('asks the router as strategic and is answered by the strategic model; a normal work item by the tactical one', async () => {
    const normal = await run({});
    // Orion's take-over: the next attempt of the subtask, with the strategic role and its hint.
    const takenOver = await run({ attempt: 2, role: 'strategic', hint: 'Write subtract(a, b) in math.js yourself and commit it.' });
    for (const { result } of [normal, takenOver]) expect(result).toMatchObject({ ok: true, filesChanged: ['math.js'] });

    // Every turn of each work item went through the router: write, commit, done.
    expect(callsOf(normal.work).map((c) => [c.request.role, c.response.decision?.role, c.response.decision?.model])).toEqual([
      ['tactical', 'tactical', TACTICAL_MODEL],
      ['tactical', 'tactical', TACTICAL_MODEL],
      ['tactical', 'tactical', TACTICAL_MODEL],
    ]);
    expect(callsOf(takenOver.work).map((c) => [c.request.role, c.response.decision?.role, c.response.decision?.model])).toEqual([
      ['strategic', 'strategic', STRATEGIC_MODEL],
      ['strategic', 'strategic', STRATEGIC_MODEL],
      ['strategic', 'strategic', STRATEGIC_MODEL],
    ]);
    expect(callsOf(takenOver.work).every((c) => c.request.attempt === 2 && c.request.taskId === takenOver.work.taskId)).toBe(true);

    // The router's own account of the calls, as the viewer and the cost reports read it.
    const accountOf = (work: SubtaskWork) => llmEvents.filter((e) => e.subtaskId === work.subtaskId).map((e) => [e.role, e.model]);
    await waitFor('the router\'s llm.completed events', () => (llmEvents.length >= calls.length ? true : undefined), 10_000);
    expect(accountOf(normal.work)).toEqual(Array.from({ length: 3 }, () => ['tactical', TACTICAL_MODEL]));
    expect(accountOf(takenOver.work)).toEqual(Array.from({ length: 3 }, () => ['strategic', STRATEGIC_MODEL]));
  });
});
