/**
 * Issue 9, "the history it shows is complete": a subtask's agent steps all reach Orion's store
 * exactly once even when NATS dies and comes back in the middle of the subtask. The test starts
 * a PRIVATE nats-server (its own port, JetStream in its own temp dir), runs the real executor
 * (work consumer, step outbox, KV results, publishers; a scripted model, an in-process write
 * guard) and Orion's real step consumer and PostgreSQL store against it, SIGKILLs that server
 * (and only it, by its pid) while the agent is between turns, restarts it on the same port and
 * store directory, and then reads the subtask's steps back through ListAgentSteps' service.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import { connectBus, type Bus, type WorkConsumer } from '@maestro/bus';
import { freePort } from '@maestro/cli';
import { Streams, Subjects, SubtaskResultSchema, type SubtaskResult } from '@maestro/contracts';
import { createDb, migrateToLatest, sql, type Kysely } from '@maestro/db';
import { ScriptedProvider, parseScript } from '@maestro/llm';
import { createLogger, createSilentLogger } from '@maestro/runtime';
import { createTestDatabase, type TestDatabase } from '@maestro/testing';
import { createExecutor, type Executor } from '../../services/executor/src/executor.js';
import { KvWorkResultStore, WORK_RESULTS_BUCKET } from '../../services/executor/src/store/kv-work-result-store.js';
import { RecordingWriteGuard } from '../../services/executor/test/recording-write-guard.js';
import { makeMathRepo, subtractWork, TEST_REPO_ROOTS } from '../../services/executor/test/math-repo.js';
import { AgentStepService } from '../../services/orchestrator/src/app/agent-steps.js';
import { orchestratorMigrations } from '../../services/orchestrator/src/store/migrations.js';
import { PostgresAgentStepStore } from '../../services/orchestrator/src/store/postgres-agent-step-store.js';
import { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from '../../services/orchestrator/src/store/schema.js';
import { subscribeWorkSteps } from '../../services/orchestrator/src/transport/nats/work-steps.subscriber.js';
import { PrivateNats, waitUntil } from '../faults/private-servers.js';

jest.setTimeout(240_000);

const logger = process.env.STEP_HISTORY_LOG ? createLogger({ service: 'step-history-test', level: 'debug' }) : createSilentLogger();

const script = parseScript({
  description: 'step history test: add subtract() to math.js and commit, over several turns',
  rules: [
    {
      name: 'subtract',
      when: { intent: 'code', contains: 'Add subtract()' },
      turns: [
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'math.js', content: 'exports.add = (a, b) => a + b;\n' } }] },
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'math.js', content: 'exports.add = (a, b) => a + b;\nexports.subtract = (a, b) => a - b;\n' } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add subtract()' } }] },
        { content: 'Added subtract() to math.js and committed it.' },
      ],
    },
  ],
});

/** A scripted model whose chosen turns wait for the test to open a gate first. */
class GatedModel implements ChatModel {
  calls = 0;
  private readonly provider = new ScriptedProvider(script, 'step-history-test');
  private readonly gates = new Map<number, { opened: Promise<void>; open: () => void; reached: Promise<void>; reach: () => void }>();

  /** Call number `call` (1-based) waits until `open(call)`; `reached(call)` resolves when it starts waiting. */
  gate(call: number): void {
    let open!: () => void;
    let reach!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const reached = new Promise<void>((r) => (reach = r));
    this.gates.set(call, { opened, open, reached, reach });
  }

  reached(call: number): Promise<void> {
    return this.gates.get(call)!.reached;
  }

  open(call: number): void {
    this.gates.get(call)!.open();
  }

  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    const call = ++this.calls;
    const gate = this.gates.get(call);
    if (gate !== undefined) {
      gate.reach();
      await gate.opened;
    }
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }
}

let nats: PrivateNats;
let storeDir: string;
let database: TestDatabase;
let db: Kysely<OrchestratorDatabase>;
let executorBus: Bus;
let orionBus: Bus;
let executor: Executor | undefined;
let stepConsumer: WorkConsumer | undefined;
let worktreeRoot: string;
let repo: string;

beforeAll(async () => {
  storeDir = mkdtempSync(join(tmpdir(), 'step-history-nats-'));
  worktreeRoot = mkdtempSync(join(tmpdir(), 'step-history-wt-'));
  repo = makeMathRepo('step-history-');
  nats = new PrivateNats(await freePort(), storeDir);
  await nats.start();
  database = await createTestDatabase('step_history');
  db = createDb<OrchestratorDatabase>({ url: database.url, maxConnections: 5, applicationName: 'step-history-test' });
  await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger });
});

afterAll(async () => {
  await executor?.shutdown(5_000);
  await stepConsumer?.stop().catch(() => undefined);
  await executorBus?.close().catch(() => undefined);
  await orionBus?.close().catch(() => undefined);
  await nats?.kill();
  await db?.destroy();
  await database?.drop().catch(() => undefined);
  for (const dir of [storeDir, worktreeRoot, repo]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

it('records every step of a subtask exactly once although NATS was killed and restarted while it ran', async () => {
  const taskId = randomUUID();
  await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status)
    values (${taskId}, 'Give the calculator subtraction', ${repo}, '["node","--test"]', 'calculator', 'running')`.execute(db);

  executorBus = await connectBus({ url: nats.url, name: 'step-history-executor', logger });
  await executorBus.ensureStreams();
  orionBus = await connectBus({ url: nats.url, name: 'step-history-orion', logger });
  const steps = new PostgresAgentStepStore(db);
  stepConsumer = await subscribeWorkSteps(orionBus, steps);

  const model = new GatedModel();
  model.gate(2); // the test kills NATS here …
  model.gate(4); // … and restarts it here, so turns 2 and 3 step while it is down.
  executor = await createExecutor({
    settings: { executorId: 'exec-steps', concurrency: 1, maxSteps: 10, maxDeliver: 3, ackWaitMs: 120_000, lockTtlMs: 60_000, worktreeRoot, repoRoots: TEST_REPO_ROOTS },
    bus: executorBus,
    logger,
    results: await KvWorkResultStore.open(executorBus.connection, { bucket: WORK_RESULTS_BUCKET }),
    collaborators: { createModel: () => model, createWriteGuard: () => new RecordingWriteGuard() },
  });
  await executor.start();

  const work = subtractWork(repo, { taskId, runId: 'run-steps' });
  await executorBus.publish(Subjects.subtaskWork, work, { msgId: work.workId });

  await model.reached(2);
  await nats.kill();
  model.open(2);
  await model.reached(4);
  await nats.start();
  model.open(4);

  // The result is on the results stream once the executor is done (after its steps were flushed).
  const result = await eventuallyResult(executorBus, work.workId);
  expect(result).toMatchObject({ ok: true, subtaskId: work.subtaskId, executorId: 'exec-steps' });

  const service = new AgentStepService(steps);
  let listed: Awaited<ReturnType<AgentStepService['list']>>['steps'] = [];
  await waitUntil('the steps recorded by Orion', async () => {
    listed = (await service.list({ taskId, runId: '', subtaskId: work.subtaskId, limit: 500, after: '' })).steps;
    return listed.some((s) => s.tool === 'merge');
  });
  const numbers = listed.map((s) => s.step);
  // Every step the executor numbered (0 … last, none missing) is stored, and none twice.
  expect(new Set(numbers).size).toBe(numbers.length);
  expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: numbers.length }, (_, i) => i));
  // The four model turns, the tool calls of turns 2 and 3 (made while NATS was down), the verdict and the merge.
  expect(listed.filter((s) => s.kind === 'model')).toHaveLength(4);
  expect(listed.filter((s) => s.kind === 'tool' && s.tool === 'fs.write')).toHaveLength(2);
  expect(listed.filter((s) => s.kind === 'tool' && s.tool === 'git.commit')).toHaveLength(1);
  expect(listed.some((s) => s.kind === 'verdict')).toBe(true);
  expect(listed.filter((s) => s.tool === 'merge')).toEqual([expect.objectContaining({ ok: true })]);
  expect(listed.every((s) => s.executorId === 'exec-steps' && s.attempt === 1)).toBe(true);
  // The events stream holds each step once too (the outbox's retries carried the step's message id).
  const info = await executorBus.jsm.streams.info(executorBus.namespace.stream(Streams.events.name), { subjects_filter: Subjects.workStep });
  expect(info.state.subjects?.[Subjects.workStep]).toBe(numbers.length);
});

async function eventuallyResult(bus: Bus, workId: string): Promise<SubtaskResult> {
  let found: SubtaskResult | undefined;
  await waitUntil('the subtask result', async () => {
    const stream = bus.namespace.stream(Streams.results.name);
    const info = await bus.jsm.streams.info(stream).catch(() => undefined);
    if (info === undefined || info.state.messages === 0) return false;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const msg = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      const parsed = msg ? SubtaskResultSchema.safeParse(msg.json()) : undefined;
      if (parsed?.success && parsed.data.workId === workId) found = parsed.data;
    }
    return found !== undefined;
  });
  return found!;
}
