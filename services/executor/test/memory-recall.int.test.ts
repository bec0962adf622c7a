/**
 * Recall before a subtask, end to end: a real memory service process (its own database on the
 * real PostgreSQL), the executor on the real NATS with its durable work consumer, a temporary
 * git repository. The model is the ScriptedProvider (its replies are scripted, and say so),
 * recording every request the agent loop sends it, so the test sees the prompt the recalled
 * memories went into. Memory stopped or paused (SIGSTOP) must cost the subtask its notes only. A
 * team's preferences reach the prompt only when the work item names that team (`memoryScopes`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { MEMORY_SECTION_TITLE, type ChatModel, type ChatModelReply, type ChatModelRequest } from '@maestro/agent';
import { connectBus, type Bus } from '@maestro/bus';
import {
  MemoryServiceClient,
  Streams,
  Subjects,
  SubtaskResultSchema,
  WorkStepEventSchema,
  type Memory,
  type SubtaskResult,
  type SubtaskWork,
  type WorkStepEvent,
} from '@maestro/contracts';
import { ScriptedProvider, parseScript } from '@maestro/llm';
import { createGrpcClient, type GrpcClient, type LogFields, type Logger } from '@maestro/runtime';
import { createExecutor, type Executor } from '../src/executor.js';
import { KvWorkResultStore, WORK_RESULTS_BUCKET } from '../src/store/kv-work-result-store.js';
import { RECALL_STEP_TOOL } from '../src/work/subtask-recall.js';
import { buildMemory, MemoryProcess } from './memory-process.js';
import { RecordingWriteGuard } from './recording-write-guard.js';
import { git, makeMathRepo, subtractWork, TEST_REPO_ROOTS } from './math-repo.js';
import { waitFor } from '@maestro/testing';

const NATS_URL = 'nats://127.0.0.1:4222';
const PROJECT = 'calculator';

const script = parseScript({
  description: 'executor recall test: add subtract() to math.js and commit',
  rules: [
    {
      name: 'subtract',
      when: { intent: 'code', contains: 'Add subtract()' },
      turns: [
        {
          toolCalls: [
            { name: 'fs.write', arguments: { path: 'math.js', content: 'exports.add = (a, b) => a + b;\nexports.subtract = (a, b) => a - b;\n' } },
          ],
        },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add subtract()' } }] },
        { content: 'Added subtract() to math.js and committed it.' },
      ],
    },
  ],
});

/** The ScriptedProvider as the agent's model, keeping a copy of every request it was sent. */
class RecordingScriptedModel implements ChatModel {
  readonly requests: ChatModelRequest['messages'][] = [];
  private readonly provider = new ScriptedProvider(script, 'executor-recall-test');

  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    this.requests.push(structuredClone(request.messages));
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }

  /** The system prompt of the first request. */
  systemPrompt(): string {
    const first = this.requests[0]?.[0];
    if (first?.role !== 'system' || typeof first.content !== 'string') throw new Error('the first request has no system prompt');
    return first.content;
  }
}

/** Keeps every line, so the test sees what the executor said about memory. */
class RecordingLogger implements Logger {
  constructor(readonly lines: Array<{ level: string; message: string; fields: LogFields }> = []) {}
  debug(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', message, fields });
  }
  child(): Logger {
    return this;
  }
  find(message: string) {
    return this.lines.filter((line) => line.message === message);
  }
}

const makeRepo = (): string => makeMathRepo('executor-recall-');

const workFor = (repo: string): SubtaskWork => subtractWork(repo, { taskId: 'task-recall', runId: 'run-recall', project: PROJECT });


/** A `127.0.0.1` address nothing listens on (bound once, then closed). */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

let memory: MemoryProcess;
const remembered: Record<'layout' | 'preference' | 'elsewhere' | 'otherTenant' | 'team' | 'otherTeam', Memory> = {} as never;

beforeAll(async () => {
  buildMemory();
  memory = await MemoryProcess.start();
  const remember = (project: string, kind: string, content: string, tenant = '', scope = '') =>
    memory.client.call.remember({ tenant, project, kind, content, tags: [], scope, pinned: false, expiresAt: undefined });
  remembered.layout = await remember(PROJECT, 'project', 'math.js is CommonJS: add each new function, such as subtract, with exports.<name> = ...');
  remembered.preference = await remember(PROJECT, 'preference', 'Write math.js functions as arrow functions, like add.');
  // Another project's memory, which this subtask must never be given.
  remembered.elsewhere = await remember('other-project', 'project', 'math.js in other-project is an ES module: export function subtract.');
  // Another tenant's memory of the same project: the work (of `default`, carrying no tenant) must never be given it.
  remembered.otherTenant = await remember(PROJECT, 'project', 'math.js of another tenant: write subtract as a class method.', 'globex');
  // Two teams' preferences of the same project: each applies only to work that names its team.
  remembered.team = await remember(PROJECT, 'preference', 'Platform team: give each math.js function, such as subtract, a one-line comment.', '', 'team:platform');
  remembered.otherTeam = await remember(PROJECT, 'preference', 'Mobile team: math.js functions such as subtract must round to two decimals.', '', 'team:mobile');
}, 120_000);

afterAll(async () => {
  await memory?.stop();
});

describe('recall before the agent starts', () => {
  let namespace: string;
  let bus: Bus;
  let results: KvWorkResultStore;
  let executor: Executor | undefined;
  let memoryClient: GrpcClient<MemoryServiceClient> | undefined;
  let worktreeRoot: string;
  /** What the executor said, through the bus's logger too (work is handled with a logger per message). */
  let logger: RecordingLogger;
  const repos: string[] = [];

  const stream = (name: string) => bus.namespace.stream(name);

  /** Starts an executor whose agents use `model` and recall from the memory service at `memoryAddr`. */
  async function startExecutor(model: ChatModel, memoryAddr: string, recallDeadlineMs = 20_000): Promise<Executor> {
    memoryClient = createGrpcClient(MemoryServiceClient, memoryAddr);
    const started = await createExecutor({
      settings: { executorId: 'exec-recall', concurrency: 1, maxSteps: 10, maxDeliver: 3, ackWaitMs: 30_000, lockTtlMs: 60_000, worktreeRoot, recallDeadlineMs, repoRoots: TEST_REPO_ROOTS },
      bus,
      logger,
      results,
      memory: memoryClient.call,
      collaborators: { createModel: () => model, createWriteGuard: () => new RecordingWriteGuard() },
    });
    await started.start();
    return started;
  }

  /** Publishes the work and waits for its result. */
  async function run(work: SubtaskWork): Promise<SubtaskResult> {
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    return waitFor('the subtask result', async () => {
      const info = await bus.jsm.streams.info(stream(Streams.results.name));
      if (info.state.messages === 0) return undefined;
      const msg = await bus.jsm.streams.getMessage(stream(Streams.results.name), { seq: info.state.last_seq });
      return msg ? SubtaskResultSchema.parse(msg.json()) : undefined;
    }, 60_000);
  }

  /** The step events of the work item on the events stream, in order. */
  async function stepsOf(work: SubtaskWork): Promise<WorkStepEvent[]> {
    const info = await bus.jsm.streams.info(stream(Streams.events.name));
    const steps: WorkStepEvent[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await bus.jsm.streams.getMessage(stream(Streams.events.name), { seq }).catch(() => null);
      if (!msg || msg.subject !== bus.namespace.subject(Subjects.workStep)) continue;
      const step = WorkStepEventSchema.parse(msg.json());
      if (step.subtaskId === work.subtaskId) steps.push(step);
    }
    return steps.sort((a, b) => a.step - b.step);
  }

  beforeEach(async () => {
    namespace = `exrc${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    worktreeRoot = mkdtempSync(join(tmpdir(), 'executor-recall-wt-'));
    logger = new RecordingLogger();
    bus = await connectBus({ url: NATS_URL, name: 'executor-recall-test', logger, namespace });
    await bus.ensureStreams();
    results = await KvWorkResultStore.open(bus.connection, { bucket: bus.namespace.stream(WORK_RESULTS_BUCKET) });
  });

  afterEach(async () => {
    await executor?.shutdown(5_000);
    executor = undefined;
    memoryClient?.close();
    memoryClient = undefined;
    await results.destroy().catch(() => undefined);
    for (const s of Object.values(Streams)) await bus.jsm.streams.delete(stream(s.name)).catch(() => undefined);
    await bus.close();
    for (const repo of repos.splice(0)) rmSync(repo, { recursive: true, force: true });
    rmSync(worktreeRoot, { recursive: true, force: true });
  });

  it("puts the project's memories in the agent's prompt and reports them on a recall step", async () => {
    const repo = makeRepo();
    repos.push(repo);
    const model = new RecordingScriptedModel();
    executor = await startExecutor(model, memory.address);

    const work = workFor(repo);
    const result = await run(work);
    expect(result).toMatchObject({ workId: work.workId, ok: true, filesChanged: ['math.js'] });

    // The prompt holds this project's memories, in the memory section, and never another project's.
    const prompt = model.systemPrompt();
    expect(prompt).toContain(MEMORY_SECTION_TITLE);
    expect(prompt).toContain(`[project] ${remembered.layout.content}`);
    expect(prompt).toContain(`[preference] ${remembered.preference.content}`);
    expect(prompt).not.toContain(remembered.elsewhere.content);
    expect(prompt).not.toContain(remembered.otherTenant.content);
    // The work item names no team: no team's preferences.
    expect(prompt).not.toContain(remembered.team.content);
    expect(prompt).not.toContain(remembered.otherTeam.content);
    // The plan's files are in scope for the whole run.
    expect(prompt).toContain('Files in scope for this task: math.js');

    // The recall step, before the first model turn, lists exactly what went into the prompt.
    const steps = await waitFor('the step events', async () => {
      const all = await stepsOf(work);
      return all.some((s) => s.kind === 'verdict') ? all : undefined;
    });
    const recall = steps.find((s) => s.kind === 'recall');
    expect(recall).toBeDefined();
    expect(steps.indexOf(recall!)).toBeLessThan(steps.findIndex((s) => s.kind === 'model'));
    const ids = recall!.recalled!.map((m) => m.id);
    expect([...ids].sort()).toEqual([remembered.layout.id, remembered.preference.id].sort());
    for (const recalled of recall!.recalled!) {
      const original = recalled.id === remembered.layout.id ? remembered.layout : remembered.preference;
      expect(recalled).toMatchObject({ kind: original.kind, content: original.content });
      expect(recalled.score).toBeGreaterThan(0);
      // Memory says why each one matched ("keyword rank 1 …; vector rank 2 …").
      expect(recalled.why).toMatch(/rank/);
      expect(prompt).toContain(recalled.content);
    }
    expect(steps.some((s) => s.tool === RECALL_STEP_TOOL)).toBe(false);
    expect(logger.find('memories recalled')[0]?.fields).toMatchObject({ recalled: 2 });
  }, 90_000);

  it("adds the preferences of the team the work item names, and never another team's", async () => {
    const repo = makeRepo();
    repos.push(repo);
    const model = new RecordingScriptedModel();
    executor = await startExecutor(model, memory.address);

    const work: SubtaskWork = { ...workFor(repo), memoryScopes: ['team:platform'] };
    const result = await run(work);
    expect(result).toMatchObject({ workId: work.workId, ok: true, filesChanged: ['math.js'] });

    const prompt = model.systemPrompt();
    expect(prompt).toContain(`[preference] ${remembered.team.content}`);
    // The project's memories as always, and no other team's.
    expect(prompt).toContain(`[project] ${remembered.layout.content}`);
    expect(prompt).toContain(`[preference] ${remembered.preference.content}`);
    expect(prompt).not.toContain(remembered.otherTeam.content);

    const steps = await waitFor('the step events', async () => {
      const all = await stepsOf(work);
      return all.some((s) => s.kind === 'verdict') ? all : undefined;
    });
    const recall = steps.find((s) => s.kind === 'recall');
    expect(recall!.recalled!.map((m) => m.id).sort()).toEqual([remembered.layout.id, remembered.preference.id, remembered.team.id].sort());
    expect(logger.find('memories recalled')[0]?.fields).toMatchObject({ recalled: 3, scopes: ['team:platform'] });
  }, 90_000);

  it('goes on without memories when memory is unreachable, saying so', async () => {
    const repo = makeRepo();
    repos.push(repo);
    const model = new RecordingScriptedModel();
    executor = await startExecutor(model, await deadAddress());

    const work = workFor(repo);
    const result = await run(work);
    expect(result).toMatchObject({ workId: work.workId, ok: true, filesChanged: ['math.js'] });
    expect(model.systemPrompt()).not.toContain(MEMORY_SECTION_TITLE);
    expect(model.systemPrompt()).not.toContain(remembered.layout.content);

    const failed = logger.find('memory recall failed; the subtask goes on without memories');
    expect(failed).toHaveLength(1);
    // Unreachable: the channel never connects (UNAVAILABLE), an operational failure, not a refusal.
    expect(failed[0]).toMatchObject({ level: 'warn', fields: { code: 'UPSTREAM_UNAVAILABLE' } });
    const steps = await waitFor('the step events', async () => {
      const all = await stepsOf(work);
      return all.some((s) => s.kind === 'verdict') ? all : undefined;
    });
    expect(steps.filter((s) => s.tool === RECALL_STEP_TOOL)).toEqual([
      expect.objectContaining({ kind: 'tool', ok: false, summary: expect.stringContaining('the agent works without recalled memories') }),
    ]);
    expect(steps.some((s) => s.kind === 'recall')).toBe(false);
  }, 90_000);

  it('gives up on a memory service that does not answer within the recall deadline', async () => {
    const repo = makeRepo();
    repos.push(repo);
    const model = new RecordingScriptedModel();
    executor = await startExecutor(model, memory.address, 500);
    // A paused process: its port accepts connections, nothing answers.
    memory.service.signal('SIGSTOP');
    try {
      const work = workFor(repo);
      const result = await run(work);
      expect(result).toMatchObject({ workId: work.workId, ok: true, filesChanged: ['math.js'] });
      expect(model.systemPrompt()).not.toContain(remembered.layout.content);
      const failed = logger.find('memory recall failed; the subtask goes on without memories');
      expect(failed).toEqual([expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', deadlineMs: 500 }) })]);
      expect((failed[0]?.fields.err as Error).message).toMatch(/deadline exceeded/i);
      const steps = await waitFor('the step events', async () => {
        const all = await stepsOf(work);
        return all.some((s) => s.kind === 'verdict') ? all : undefined;
      });
      expect(steps.filter((s) => s.tool === RECALL_STEP_TOOL).map((s) => s.ok)).toEqual([false]);
    } finally {
      memory.service.signal('SIGCONT');
    }
  }, 90_000);
});
