/**
 * The gateway against real neighbours: its production wiring (`startGateway`: real gRPC
 * clients, real NATS subscription, real HTTP listener) talking to real gRPC servers on
 * 127.0.0.1 that play the orchestrator, workflow-engine and memory with test data, and to the
 * real NATS server for live events. A random bus namespace (MAESTRO_NATS_NAMESPACE) keeps this
 * run's events private.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, type Bus } from '@maestro/bus';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
  LockServiceService,
  MemoryServiceService,
  OrchestratorServiceService,
  Streams,
  Subjects,
  TaskLimits,
  WorkflowServiceService,
  type AgentStep,
  type CancelTaskRequest,
  type DiffDefinitionsRequest,
  type GetDefinitionRequest,
  type GetRunRequest,
  type InspectRequest,
  type ListDefinitionsRequest,
  type PutDefinitionRequest,
  type GetTaskRequest,
  type ListAgentStepsRequest,
  type ListAgentStepsResponse,
  type ListTasksRequest,
  type Run,
  type SubmitTaskRequest,
  type Task,
} from '@maestro/contracts';
import {
  createGrpcClient,
  createGrpcServer,
  createSilentLogger,
  invalidField,
  ManualClock,
  loadConfig,
  notFound,
  OperationalError,
  unary,
  type GrpcServer,
} from '@maestro/runtime';
import { createDb, migrateToLatest } from '@maestro/db';
import { createTestDatabase, testBusSigningKey, type TestDatabase } from '@maestro/testing';
import { generateApiKey } from '../src/auth/api-key.js';
import { GATEWAY_SCHEMA, loadGatewayMigrations } from '../src/auth/api-key-migrations.js';
import { gatewayConfigSpec } from '../src/config.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { FakeMemoryService } from './fake-memory-service.js';
import { FakeLocks, FakeWorkflow } from './fakes/index.js';
import { authedFetch, bearer } from './auth.js';

const logger = createSilentLogger();
// The operator's key this gateway is started with; every request below sends it.
const bootstrapKey = generateApiKey().key;
const fetch = authedFetch(bootstrapKey);
let database: TestDatabase;
const namespace = `gwtest_${randomBytes(4).toString('hex')}`;
const at = new Date('2030-01-02T03:04:05.000Z');

// ---------------------------------------------------------------------------------------------
// The fake neighbours.

/** Orion, as far as the gateway can tell: checks the repo path like the real one and keeps tasks in memory. */
class FakeOrchestrator {
  readonly submitted: SubmitTaskRequest[] = [];
  readonly listed: ListTasksRequest[] = [];
  private readonly tasks = new Map<string, Task>();
  private nextId = 1;

  async submitTask(request: SubmitTaskRequest): Promise<Task> {
    this.submitted.push(request);
    if (!existsSync(request.repoPath) || !statSync(request.repoPath).isDirectory()) {
      throw invalidField('repo_path', `no such directory: ${request.repoPath}`);
    }
    if (!existsSync(join(request.repoPath, '.git'))) {
      throw invalidField('repo_path', `not a git repository: ${request.repoPath}`);
    }
    const task: Task = {
      id: `task-${this.nextId++}`,
      tenant: request.tenant,
      goal: request.goal,
      repoPath: request.repoPath,
      testCommand: request.testCommand,
      project: request.project || 'demo',
      status: 'running',
      runId: 'run-of-task',
      subtasks: [],
      failureReason: '',
      createdAt: at,
      updatedAt: at,
      answer: '',
      reviewSummary: '',
      budget: { usd: 0, tokens: 0 },
      intent: 'code',
      intentConfidence: 0.9,
      intentReason: 'test double',
      workflow: 'coding',
      memoryScopes: request.memoryScopes,
      escalations: [],
    };
    this.tasks.set(task.id, task);
    return task;
  }

  async getTask(request: GetTaskRequest): Promise<Task> {
    if (request.taskId === 'explode') throw new Error('database password hunter2 rejected');
    const task = this.tasks.get(request.taskId);
    if (!task) throw notFound('task', request.taskId, 'TASK_NOT_FOUND');
    return task;
  }

  async listTasks(request: ListTasksRequest): Promise<{ tasks: Task[] }> {
    this.listed.push(request);
    const all = [...this.tasks.values()].filter((t) => !request.status || t.status === request.status);
    return { tasks: all.slice(0, request.limit || 50) };
  }

  async cancelTask(request: CancelTaskRequest): Promise<Task> {
    const task = await this.getTask({ tenant: request.tenant, taskId: request.taskId });
    const cancelled = { ...task, status: 'cancelled', failureReason: request.reason };
    this.tasks.set(task.id, cancelled);
    return cancelled;
  }

  /** Recorded agent steps, oldest first, as the real orchestrator keeps them. */
  readonly steps: AgentStep[] = [];
  readonly stepRequests: ListAgentStepsRequest[] = [];
  /** When set, ListAgentSteps fails with this error. */
  failStepsWith: Error | undefined;

  /** Pages like the real one: the cursor is opaque to callers (here: how many steps were passed). */
  async listAgentSteps(request: ListAgentStepsRequest): Promise<ListAgentStepsResponse> {
    this.stepRequests.push(request);
    if (this.failStepsWith) throw this.failStepsWith;
    if (request.after !== '' && !/^n\d+$/.test(request.after)) throw invalidField('after', 'is not a cursor this service issued');
    if (request.taskId !== '' && !this.tasks.has(request.taskId) && !this.steps.some((s) => s.taskId === request.taskId)) {
      throw notFound('task', request.taskId, 'TASK_NOT_FOUND');
    }
    const matching = this.steps.filter(
      (s) => (request.taskId === '' || s.taskId === request.taskId) && (request.runId === '' || s.runId === request.runId) &&
        (request.subtaskId === '' || s.subtaskId === request.subtaskId),
    );
    const start = request.after === '' ? 0 : Number(request.after.slice(1));
    const end = Math.min(start + (request.limit || 200), matching.length);
    return { steps: matching.slice(start, end), nextAfter: end < matching.length ? `n${end}` : '' };
  }
}

/** A recorded step of task-steps / run-steps, `seconds` after `at`; `attempt` 0 = unknown, as proto3 has it. */
function agentStep(subtaskId: string, executorId: string, step: number, seconds: number, runId = 'run-steps', attempt = 0): AgentStep {
  return {
    taskId: 'task-steps', runId, subtaskId, executorId, step, kind: step === 0 ? 'model' : 'tool', tool: step === 0 ? '' : 'fs.write',
    summary: `${subtaskId} ${executorId} step ${step}`, ok: true, at: new Date(at.getTime() + seconds * 1000), attempt, recalled: [], condensation: undefined,
    // A model step carries its call, a tool step its arguments and observation.
    modelCall: step === 0 ? STEP_CALL : undefined, durationMs: step === 0 ? 1500 : 3,
    arguments: step === 0 ? '' : '{"path":"a.ts"}', observation: step === 0 ? '' : 'wrote a.ts',
  };
}

/** The model call of every recorded model step. */
const STEP_CALL = { provider: 'scripted', model: 'scripted', scripted: true, inputTokens: 950, cachedInputTokens: 0, outputTokens: 12, reasoningTokens: 0, usd: 0, priced: true };

/** The live event a recorded step was recorded from (an unknown attempt is one the executor did not send). */
function liveStep(step: AgentStep): Record<string, unknown> {
  return {
    ...step, at: step.at?.toISOString(), ...(step.tool === '' ? { tool: undefined } : {}), ...(step.attempt === 0 ? { attempt: undefined } : {}),
    // A live step has no `recalled` unless it is a recall (proto3 has an empty list for none).
    ...(step.recalled.length === 0 ? { recalled: undefined } : {}),
    ...(step.arguments === '' ? { arguments: undefined, observation: undefined } : {}),
  };
}

function transition(seq: number, from: string, to: string): Run['history'][number] {
  return { seq, fromState: from, toState: to, eventType: seq === 1 ? 'xstate.init' : 'activity.done', event: { type: 'activity.done' }, at, note: false };
}

function makeRun(id: string, status: string, state: string, history: Run['history']): Run {
  return {
    id,
    tenant: 'default',
    definitionName: 'coding',
    definitionVersion: 1,
    status,
    state,
    attempt: 1,
    context: { input: { taskId: 'task-1' } },
    history,
    createdAt: at,
    updatedAt: at,
  };
}

function runEvent(runId: string, seq: number, fromState: string, state: string) {
  return { runId, tenant: 'default', definitionName: 'coding', status: 'running', state, fromState, eventType: 'activity.done', seq, at: at.toISOString() };
}

// ---------------------------------------------------------------------------------------------
// SSE client over real HTTP.

interface Frame {
  id?: number;
  event?: string;
  data?: Record<string, unknown>;
  comment?: string;
}

/** Reads `text/event-stream` frames one by one; `next()` resolves undefined when the stream ends. */
async function openEventStream(url: string): Promise<{ status: number; contentType: string | null; next(): Promise<Frame | undefined>; cancel(): Promise<void> }> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
  if (!response.body) throw new Error('no body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const next = async (): Promise<Frame | undefined> => {
    for (;;) {
      const end = text.indexOf('\n\n');
      if (end >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const frame: Frame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(': ')) frame.comment = line.slice(2);
          else if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
        }
        if (frame.comment === 'heartbeat') continue;
        return frame;
      }
      const chunk = await reader.read();
      if (chunk.done) return undefined;
      text += decoder.decode(chunk.value, { stream: true });
    }
  };
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    next,
    cancel: () => reader.cancel(),
  };
}

// ---------------------------------------------------------------------------------------------

let orchestrator: FakeOrchestrator;
let orchestratorServer: GrpcServer;
let workflowServer: GrpcServer;
let memoryServer: GrpcServer;
let lockServer: GrpcServer;
const fakeClock = new ManualClock(at.getTime());
// Definitions and locks are the in-process fakes (test/fakes), served over real gRPC.
const definitions = new FakeWorkflow(fakeClock);
const locks = new FakeLocks(fakeClock);
let publisher: Bus;
let gateway: RunningGateway;
let base: string;
let repoDir: string;
let notARepoDir: string;
const fakeMemory = new FakeMemoryService(at);
const memories = fakeMemory.memories;

beforeAll(async () => {
  repoDir = mkdtempSync(join(tmpdir(), 'gateway-repo-'));
  execFileSync('git', ['init', '-q', repoDir]);
  notARepoDir = mkdtempSync(join(tmpdir(), 'gateway-plain-'));

  publisher = await connectBus({ url: 'nats://127.0.0.1:4222', name: 'gateway-test', logger, namespace, streamLimits: { storage: 'memory' }, signing: { key: testBusSigningKey } });
  await publisher.ensureStreams();

  orchestrator = new FakeOrchestrator();
  orchestratorServer = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.OrchestratorService'], shutdownGraceMs: 500 });
  orchestratorServer.add(OrchestratorServiceService, {
    submitTask: unary((req: SubmitTaskRequest) => orchestrator.submitTask(req)),
    getTask: unary((req: GetTaskRequest) => orchestrator.getTask(req)),
    listTasks: unary((req: ListTasksRequest) => orchestrator.listTasks(req)),
    cancelTask: unary((req: CancelTaskRequest) => orchestrator.cancelTask(req)),
    listAgentSteps: unary((req: ListAgentStepsRequest) => orchestrator.listAgentSteps(req)),
  });
  orchestrator.steps.push(
    agentStep('s1', 'exec-a', 0, 1),
    agentStep('s1', 'exec-a', 1, 2),
    agentStep('s2', 'exec-b', 0, 3),
    // s1 retried on another executor, which sends the work item's attempt (the others don't).
    agentStep('s1', 'exec-b', 0, 4, 'run-steps', 2),
    agentStep('d1', 'exec-a', 0, 1, 'run-done', 1),
  );

  const runs = new Map<string, Run>([
    ['run-done', makeRun('run-done', 'done', 'done', [transition(1, '', 'intake'), transition(2, 'intake', 'done')])],
  ]);
  // A run whose last transition and run.finished were lost on the way (core NATS drops while
  // disconnected): the first read shows it running, every later one finished.
  let lostFinishReads = 0;
  workflowServer = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.WorkflowService'], shutdownGraceMs: 500 });
  workflowServer.add(WorkflowServiceService, {
    getRun: unary(async (req: GetRunRequest) => {
      if (req.runId === 'run-live') {
        // While the gateway reads the history, the run moves on: seq 2 is already in the
        // history returned below, seq 3 is not. The stream must show each exactly once.
        await publisher.publish(Subjects.runTransitioned, runEvent('run-live', 2, 'intake', 'preflight'));
        await publisher.publish(Subjects.runTransitioned, runEvent('run-live', 3, 'preflight', 'plan'));
        return makeRun('run-live', 'running', 'preflight', [transition(1, '', 'intake'), transition(2, 'intake', 'preflight')]);
      }
      if (req.runId === 'run-steps') {
        // A live copy of a step that is already recorded arrives while the stream reads the
        // history and the recorded steps.
        const recorded = orchestrator.steps.find((s) => s.runId === 'run-steps' && s.subtaskId === 's2');
        if (recorded) await publisher.publish(Subjects.workStep, liveStep(recorded));
        return makeRun('run-steps', 'running', 'code', [transition(1, '', 'intake'), transition(2, 'intake', 'code')]);
      }
      if (req.runId === 'run-lost-finish') {
        lostFinishReads++;
        return lostFinishReads === 1
          ? makeRun('run-lost-finish', 'running', 'intake', [transition(1, '', 'intake')])
          : makeRun('run-lost-finish', 'done', 'done', [transition(1, '', 'intake'), transition(2, 'intake', 'done')]);
      }
      const run = runs.get(req.runId);
      if (!run) throw notFound('run', req.runId, 'RUN_NOT_FOUND');
      return run;
    }),
    putDefinition: unary((req: PutDefinitionRequest) => definitions.putDefinition(req)),
    getDefinition: unary((req: GetDefinitionRequest) => definitions.getDefinition(req)),
    listDefinitions: unary((req: ListDefinitionsRequest) => definitions.listDefinitions(req)),
    diffDefinitions: unary((req: DiffDefinitionsRequest) => definitions.diffDefinitions(req)),
  });

  lockServer = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.LockService'], shutdownGraceMs: 500 });
  lockServer.add(LockServiceService, { inspect: unary((req: InspectRequest) => locks.inspect(req)) });

  memoryServer = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.MemoryService'], shutdownGraceMs: 500 });
  memoryServer.add(MemoryServiceService, fakeMemory.handlers());

  const [orchestratorPort, workflowPort, memoryPort, lockPort] = await Promise.all([
    orchestratorServer.start(),
    workflowServer.start(),
    memoryServer.start(),
    lockServer.start(),
  ]);

  database = await createTestDatabase('gateway_int');
  const migrator = createDb({ url: database.url, maxConnections: 1 });
  await migrateToLatest(migrator, { schema: GATEWAY_SCHEMA, migrations: loadGatewayMigrations(), logger });
  await migrator.destroy();

  const config = loadConfig(gatewayConfigSpec, {
    MAESTRO_LOG_LEVEL: 'silent',
    MAESTRO_DATABASE_URL: database.url,
    MAESTRO_GATEWAY_BOOTSTRAP_KEY: bootstrapKey,
    MAESTRO_BUS_SIGNING_KEY: testBusSigningKey,
    MAESTRO_NATS_NAMESPACE: namespace,
    MAESTRO_GATEWAY_PORT: '0',
    MAESTRO_GATEWAY_HOST: '127.0.0.1',
    MAESTRO_GATEWAY_GRPC_ADDR: '127.0.0.1:0',
    MAESTRO_ORCHESTRATOR_GRPC_ADDR: `127.0.0.1:${orchestratorPort}`,
    MAESTRO_WORKFLOW_ENGINE_GRPC_ADDR: `127.0.0.1:${workflowPort}`,
    MAESTRO_MEMORY_GRPC_ADDR: `127.0.0.1:${memoryPort}`,
    MAESTRO_LOCK_MANAGER_GRPC_ADDR: `127.0.0.1:${lockPort}`,
    // The smallest allowed: each beat also re-reads the run of an open stream.
    MAESTRO_GATEWAY_SSE_HEARTBEAT_MS: '1000',
  });
  gateway = await startGateway(config, { logger });
  base = `http://127.0.0.1:${gateway.httpPort}`;
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([orchestratorServer?.shutdown(), workflowServer?.shutdown(), memoryServer?.shutdown(), lockServer?.shutdown()]);
  if (publisher) {
    for (const spec of Object.values(Streams)) {
      await publisher.jsm.streams.delete(publisher.namespace.stream(spec.name)).catch(() => undefined);
    }
    await publisher.close();
  }
  for (const dir of [repoDir, notARepoDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  await database?.drop();
});

describe('authentication with keys in PostgreSQL', () => {
  it('refuses a request without a key with 401 and WWW-Authenticate: Bearer', async () => {
    const response = await globalThis.fetch(`${base}/v1/tasks`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('missing credentials') } });
  });

  it('creates a read key with the bootstrap key, accepts it for reads, refuses it for submits, and refuses it once revoked', async () => {
    const created = await post('/v1/keys', { name: 'dashboard', scopes: ['read'] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'dashboard', tenant: 'default', scopes: ['read'] });
    const key = created.json.key as string;
    expect((await globalThis.fetch(`${base}/v1/tasks`, { headers: bearer(key) })).status).toBe(200);
    const submit = await globalThis.fetch(`${base}/v1/tasks`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'x', repoPath: repoDir }),
    });
    expect(submit.status).toBe(403);
    expect(await submit.json()).toEqual({ error: { code: 'SCOPE_MISSING', message: 'this route needs scope submit' } });

    const listed = await get('/v1/keys');
    expect(listed.json.keys.map((k: { id: string }) => k.id)).toContain(created.json.id);
    expect(JSON.stringify(listed.json)).not.toContain(key.slice(-43));

    const revoked = await fetch(`${base}/v1/keys/${created.json.id as string}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    const refused = await globalThis.fetch(`${base}/v1/tasks`, { headers: bearer(key) });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: `API key ${created.json.id as string} was revoked` } });
  });
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json(), headers: response.headers };
}

async function get(path: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, json: await response.json() };
}

describe('POST /v1/tasks', () => {
  it('submits the task to the orchestrator and answers 201 with the task', async () => {
    const { status, json, headers } = await post('/v1/tasks', {
      goal: 'add a --verbose flag',
      repoPath: repoDir,
      testCommand: ['npm', 'test'],
      idempotencyKey: 'k-1',
    });
    expect(status).toBe(201);
    expect(json).toMatchObject({
      goal: 'add a --verbose flag',
      repoPath: repoDir,
      testCommand: ['npm', 'test'],
      project: 'demo',
      status: 'running',
      createdAt: at.toISOString(),
    });
    expect(headers.get('location')).toBe(`/v1/tasks/${json.id as string}`);
    expect(orchestrator.submitted.at(-1)).toEqual({
      tenant: 'default',
      goal: 'add a --verbose flag',
      repoPath: repoDir,
      testCommand: ['npm', 'test'],
      project: '',
      idempotencyKey: 'k-1',
      budget: undefined,
      workflow: '',
      memoryScopes: [],
    });
  });

  const invalid: Array<[string, unknown, string]> = [
    ['goal missing', { repoPath: '/tmp' }, 'goal'],
    ['goal empty', { goal: '', repoPath: '/tmp' }, 'goal'],
    ['goal blank', { goal: '   ', repoPath: '/tmp' }, 'goal'],
    ['goal not a string', { goal: 42, repoPath: '/tmp' }, 'goal'],
    ['repoPath missing', { goal: 'x' }, 'repoPath'],
    ['repoPath not a string', { goal: 'x', repoPath: ['/tmp'] }, 'repoPath'],
    ['unknown field', { goal: 'x', repoPath: '/tmp', priority: 'high' }, 'priority'],
    ['snake_case field', { goal: 'x', repo_path: '/tmp' }, 'repoPath'],
    ['testCommand not a list', { goal: 'x', repoPath: '/tmp', testCommand: 'npm test' }, 'testCommand'],
    ['testCommand item not a string', { goal: 'x', repoPath: '/tmp', testCommand: ['npm', 1] }, 'testCommand.1'],
    ['project not a string', { goal: 'x', repoPath: '/tmp', project: 7 }, 'project'],
  ];
  it.each(invalid)('rejects %s with 400 naming the field, without calling the orchestrator', async (_case, body, field) => {
    const before = orchestrator.submitted.length;
    const { status, json } = await post('/v1/tasks', body);
    expect(status).toBe(400);
    expect(json.error.code).toBe('INVALID_ARGUMENT');
    expect(json.error.field).toBe(field);
    expect(json.error.message).toContain(field);
    expect(orchestrator.submitted.length).toBe(before);
  });

  it('enforces the shared TaskLimits, accepting a goal of exactly the limit', async () => {
    const atLimit = await post('/v1/tasks', { goal: 'g'.repeat(TaskLimits.goalMaxChars), repoPath: repoDir });
    expect(atLimit.status).toBe(201);

    const before = orchestrator.submitted.length;
    const tooLong = await post('/v1/tasks', { goal: 'g'.repeat(TaskLimits.goalMaxChars + 1), repoPath: repoDir });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.field).toBe('goal');
    const tooManyArgs = await post('/v1/tasks', {
      goal: 'x',
      repoPath: repoDir,
      testCommand: Array.from({ length: TaskLimits.testCommandMaxArgs + 1 }, () => 'a'),
    });
    expect(tooManyArgs.status).toBe(400);
    expect(tooManyArgs.json.error.field).toBe('testCommand');
    expect(orchestrator.submitted.length).toBe(before);
  });

  it('rejects a body that is not JSON with 400, without calling the orchestrator', async () => {
    const before = orchestrator.submitted.length;
    const { status, json } = await post('/v1/tasks', '{"goal": ');
    expect(status).toBe(400);
    expect(json.error.code).toBe('INVALID_ARGUMENT');
    expect(orchestrator.submitted.length).toBe(before);
  });

  it.each([
    ['does not exist', () => join(repoDir, 'missing'), 'no such directory'],
    ['is not a git repository', () => notARepoDir, 'not a git repository'],
  ])('answers 400 on repoPath when the orchestrator finds the path %s', async (_case, path, words) => {
    const { status, json } = await post('/v1/tasks', { goal: 'fix it', repoPath: path() });
    expect(status).toBe(400);
    expect(json.error).toEqual({ code: 'INVALID_ARGUMENT', field: 'repoPath', message: expect.stringContaining(words) });
    expect(json.error.message).toMatch(/^repoPath: /);
  });
});

describe('NUL characters', () => {
  // PostgreSQL refuses U+0000 in text: every route refuses it first, naming the field.
  it.each([
    ['goal', { goal: 'fix\u0000it' }, 'goal'],
    ['project', { project: 'de\u0000mo' }, 'project'],
    ['idempotencyKey', { idempotencyKey: 'k\u0000' }, 'idempotencyKey'],
    ['a testCommand argument', { testCommand: ['npm', 'te\u0000st'] }, 'testCommand[1]'],
  ])('rejects a task with NUL in %s with 400 naming it, storing nothing', async (_case, fields, field) => {
    const before = orchestrator.submitted.length;
    const { status, json } = await post('/v1/tasks', { goal: 'fix it', repoPath: repoDir, ...fields });
    expect(status).toBe(400);
    expect(json.error).toEqual({ code: 'INVALID_ARGUMENT', field, message: `${field}: must not contain NUL (\\u0000) characters` });
    expect(orchestrator.submitted.length).toBe(before);
  });

  it('rejects NUL in a memory, a recall query and a cancel reason', async () => {
    const before = memories.length;
    const remembered = await post('/v1/memories', { project: 'demo', kind: 'project', content: 'a\u0000b' });
    expect(remembered.status).toBe(400);
    expect(remembered.json.error.field).toBe('content');
    expect(memories.length).toBe(before);

    const recalled = await get(`/v1/memories?project=demo&query=${encodeURIComponent('pnpm\u0000')}`);
    expect(recalled.status).toBe(400);
    expect(recalled.json.error.field).toBe('query');

    const created = await post('/v1/tasks', { goal: 'to be cancelled', repoPath: repoDir });
    const cancelled = await post(`/v1/tasks/${created.json.id as string}/cancel`, { reason: 'no\u0000' });
    expect(cancelled.status).toBe(400);
    expect(cancelled.json.error.field).toBe('reason');
    expect((await get(`/v1/tasks/${created.json.id as string}`)).json.status).toBe('running');
  });
});

describe('task reads', () => {
  it('gets a task by id, 404 for an unknown one and 400 for a malformed id', async () => {
    const created = await post('/v1/tasks', { goal: 'write docs', repoPath: repoDir });
    const found = await get(`/v1/tasks/${created.json.id as string}`);
    expect(found.status).toBe(200);
    expect(found.json.goal).toBe('write docs');

    const missing = await get('/v1/tasks/task-999');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('TASK_NOT_FOUND');

    const malformed = await get(`/v1/tasks/${encodeURIComponent('bad id!')}`);
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.field).toBe('id');
  });

  it('lists tasks with limit and status passed through, rejecting bad parameters', async () => {
    const listed = await get('/v1/tasks?limit=1&status=running');
    expect(listed.status).toBe(200);
    expect(listed.json.tasks).toHaveLength(1);
    expect(orchestrator.listed.at(-1)).toEqual({ tenant: 'default', limit: 1, status: 'running', goalContains: '', pageToken: '' });

    for (const [query, field] of [
      ['limit=many', 'limit'],
      ['limit=501', 'limit'],
      ['status=sleeping', 'status'],
      ['colour=red', 'colour'],
    ] as const) {
      const bad = await get(`/v1/tasks?${query}`);
      expect(bad.status).toBe(400);
      expect(bad.json.error.field).toBe(field);
    }
  });

  it('cancels a task', async () => {
    const created = await post('/v1/tasks', { goal: 'doomed', repoPath: repoDir });
    const response = await fetch(`${base}/v1/tasks/${created.json.id as string}/cancel`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: created.json.id, status: 'cancelled' });

    const withReason = await post(`/v1/tasks/${created.json.id as string}/cancel`, { reason: 'changed my mind' });
    expect(withReason.json.failureReason).toBe('changed my mind');
  });

  it('answers 500 without details when the orchestrator fails unexpectedly', async () => {
    const { status, json } = await get('/v1/tasks/explode');
    expect(status).toBe(500);
    expect(JSON.stringify(json)).not.toContain('hunter2');
    expect(json.error.message).toContain('internal error');
  });
});

describe('runs', () => {
  it('gets a run with its states and history, 404 for an unknown one', async () => {
    const { status, json } = await get('/v1/runs/run-done');
    expect(status).toBe(200);
    expect(json).toMatchObject({ id: 'run-done', status: 'done', state: 'done', definitionName: 'coding' });
    expect(json.history.map((t: { toState: string }) => t.toState)).toEqual(['intake', 'done']);
    expect((await get('/v1/runs/no-such-run')).status).toBe(404);
  });

  it('streams history, then live events from NATS, and ends after run.finished', async () => {
    const stream = await openEventStream(`${base}/v1/runs/run-live/events`);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);

    const first = [await stream.next(), await stream.next(), await stream.next()];
    expect(first.map((f) => [f?.event, f?.data?.seq, f?.data?.state])).toEqual([
      ['run.transitioned', 1, 'intake'],
      ['run.transitioned', 2, 'preflight'],
      ['run.transitioned', 3, 'plan'],
    ]);

    await publisher.publish(Subjects.runTransitioned, runEvent('someone-else', 7, 'plan', 'code'));
    await publisher.publish(Subjects.workStep, {
      taskId: 'task-1', runId: 'run-live', subtaskId: 's1', executorId: 'e1', step: 0, kind: 'tool', tool: 'read_file',
      summary: 'read README.md', ok: true, at: at.toISOString(),
    });
    await publisher.publish(Subjects.runFinished, { ...runEvent('run-live', 4, 'plan', 'done'), status: 'done' });

    const rest: Frame[] = [];
    for (let frame = await stream.next(); frame; frame = await stream.next()) rest.push(frame);
    expect(rest.map((f) => [f.event, f.data?.runId])).toEqual([
      ['work.step', 'run-live'],
      ['run.finished', 'run-live'],
    ]);
    expect(rest[0]?.data?.summary).toBe('read README.md');
    const ids = [...first, ...rest].map((f) => f?.id);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
  });

  it('gets a run with the steps its agents took, read from the orchestrator by run id', async () => {
    const { status, json } = await get('/v1/runs/run-done');
    expect(status).toBe(200);
    expect(json.stepsUnavailable).toBe(false);
    expect(json.stepsNextAfter).toBe('');
    expect(json.steps).toEqual([
      {
        taskId: 'task-steps', runId: 'run-done', subtaskId: 'd1', executorId: 'exec-a', step: 0, kind: 'model',
        summary: 'd1 exec-a step 0', ok: true, at: new Date(at.getTime() + 1000).toISOString(), attempt: 1,
        modelCall: STEP_CALL, durationMs: 1500, arguments: null, observation: null,
      },
    ]);
    expect(orchestrator.stepRequests.at(-1)).toEqual({ tenant: 'default', taskId: '', runId: 'run-done', subtaskId: '', limit: 1000, after: '' });
  });

  it('gets the run without steps, saying so, when the orchestrator cannot list them', async () => {
    orchestrator.failStepsWith = new OperationalError('DB_DOWN', 'database unavailable');
    try {
      const { status, json } = await get('/v1/runs/run-done');
      expect(status).toBe(200);
      expect(json).toMatchObject({ id: 'run-done', status: 'done', stepsUnavailable: true });
      expect(json.steps).toBeUndefined();
    } finally {
      orchestrator.failStepsWith = undefined;
    }
  });

  it('replays the recorded steps after the history, then live ones, each step once', async () => {
    const stream = await openEventStream(`${base}/v1/runs/run-steps/events`);
    const replayed: Frame[] = [];
    for (let i = 0; i < 6; i++) replayed.push((await stream.next()) ?? {});
    expect(replayed.map((f) => [f.event, f.data?.seq ?? `${String(f.data?.subtaskId)}/${String(f.data?.executorId)}/${String(f.data?.step)}`, f.data?.replay])).toEqual([
      ['run.transitioned', 1, true],
      ['run.transitioned', 2, true],
      ['work.step', 's1/exec-a/0', true],
      ['work.step', 's1/exec-a/1', true],
      ['work.step', 's2/exec-b/0', true],
      ['work.step', 's1/exec-b/0', true],
    ]);
    expect(replayed[3]?.data).toMatchObject({
      taskId: 'task-steps', runId: 'run-steps', kind: 'tool', tool: 'fs.write', summary: 's1 exec-a step 1', modelCall: null, durationMs: 3, arguments: '{"path":"a.ts"}', observation: 'wrote a.ts',
    });
    // A replayed model step carries its call, so a viewer opened after the run still shows tokens and cost.
    expect(replayed[2]?.data).toMatchObject({ kind: 'model', modelCall: STEP_CALL, durationMs: 1500, arguments: null, observation: null });
    // The recorded attempt, null where the executor sent none.
    expect(replayed.slice(2).map((f) => f.data?.attempt)).toEqual([null, null, null, 2]);

    // Live: a late copy of a recorded step (dropped), a new step, then the end.
    const recorded = orchestrator.steps.find((s) => s.runId === 'run-steps' && s.subtaskId === 's1' && s.step === 1);
    await publisher.publish(Subjects.workStep, liveStep(recorded as AgentStep));
    const fresh = agentStep('s2', 'exec-b', 1, 5, 'run-steps', 3);
    await publisher.publish(Subjects.workStep, liveStep(fresh));
    await publisher.publish(Subjects.workStep, liveStep(fresh)); // and a second copy of it
    await publisher.publish(Subjects.runFinished, { ...runEvent('run-steps', 3, 'code', 'done'), status: 'done' });
    const rest: Frame[] = [];
    for (let frame = await stream.next(); frame; frame = await stream.next()) rest.push(frame);
    expect(rest.map((f) => [f.event, f.data?.subtaskId, f.data?.step, f.data?.replay])).toEqual([
      ['work.step', 's2', 1, undefined],
      ['run.finished', undefined, undefined, undefined],
    ]);
    // A live step is the event as published, attempt included.
    expect(rest[0]?.data?.attempt).toBe(3);
  });

  it('replays the history of an ended run and ends at once', async () => {
    const stream = await openEventStream(`${base}/v1/runs/run-done/events`);
    const frames: Frame[] = [];
    for (let frame = await stream.next(); frame; frame = await stream.next()) frames.push(frame);
    expect(frames.map((f) => [f.event, f.data?.state ?? f.data?.subtaskId])).toEqual([
      ['run.transitioned', 'intake'],
      ['run.transitioned', 'done'],
      ['work.step', 'd1'],
      ['run.finished', 'done'],
    ]);
  });

  it('ends a stream whose run finished without any live event arriving, from the run re-read at a heartbeat', async () => {
    // Nothing is published on NATS for this run: without the re-read the stream would stay open.
    const stream = await openEventStream(`${base}/v1/runs/run-lost-finish/events`);
    const frames: Frame[] = [];
    for (let frame = await stream.next(); frame; frame = await stream.next()) frames.push(frame);
    expect(frames.map((f) => [f.id, f.event, f.data?.seq, f.data?.state, f.data?.replay])).toEqual([
      [1, 'run.transitioned', 1, 'intake', true],
      [2, 'run.transitioned', 2, 'done', true],
      [3, 'run.finished', 2, 'done', true],
    ]);
    expect(frames[2]?.data).toMatchObject({ runId: 'run-lost-finish', status: 'done', definitionName: 'coding' });
  });

  it('answers an unknown run stream with a 404 JSON error', async () => {
    const response = await fetch(`${base}/v1/runs/no-such-run/events`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND');
  });
});

describe('task steps', () => {
  it('lists a task\'s recorded steps, oldest first', async () => {
    const { status, json } = await get('/v1/tasks/task-steps/steps');
    expect(status).toBe(200);
    expect(json.nextAfter).toBe('');
    expect(json.steps.map((s: { subtaskId: string; executorId: string; step: number }) => `${s.subtaskId}/${s.executorId}/${s.step}`)).toEqual([
      's1/exec-a/0', 's1/exec-a/1', 's2/exec-b/0', 's1/exec-b/0', 'd1/exec-a/0',
    ]);
    // The attempt the executor reported, null when unknown.
    expect(json.steps.map((s: { attempt: number | null }) => s.attempt)).toEqual([null, null, null, 2, 1]);
    expect(orchestrator.stepRequests.at(-1)).toEqual({ tenant: 'default', taskId: 'task-steps', runId: '', subtaskId: '', limit: 0, after: '' });
  });

  it('passes subtaskId, limit and after through, page by page', async () => {
    const first = await get('/v1/tasks/task-steps/steps?subtaskId=s1&limit=2');
    expect(first.json.steps.map((s: { step: number; executorId: string }) => `${s.executorId}/${s.step}`)).toEqual(['exec-a/0', 'exec-a/1']);
    expect(first.json.nextAfter).not.toBe('');
    expect(orchestrator.stepRequests.at(-1)).toEqual({ tenant: 'default', taskId: 'task-steps', runId: '', subtaskId: 's1', limit: 2, after: '' });

    const second = await get(`/v1/tasks/task-steps/steps?subtaskId=s1&limit=2&after=${encodeURIComponent(first.json.nextAfter as string)}`);
    expect(second.json.steps.map((s: { step: number; executorId: string }) => `${s.executorId}/${s.step}`)).toEqual(['exec-b/0']);
    expect(second.json.nextAfter).toBe('');
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=some', 'limit'],
    [`subtaskId=${encodeURIComponent('bad id!')}`, 'subtaskId'],
    [`after=${encodeURIComponent('not/base64')}`, 'after'],
    ['sort=desc', 'sort'],
  ])('rejects ?%s with 400 naming %s, without calling the orchestrator', async (query, field) => {
    const before = orchestrator.stepRequests.length;
    const { status, json } = await get(`/v1/tasks/task-steps/steps?${query}`);
    expect(status).toBe(400);
    expect(json.error.field).toBe(field);
    expect(orchestrator.stepRequests.length).toBe(before);
  });

  it('answers 400 on after when the orchestrator refuses the cursor, and 404 for an unknown task', async () => {
    const refused = await get('/v1/tasks/task-steps/steps?after=forged');
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'after', message: expect.stringMatching(/^after: /) });

    const missing = await get('/v1/tasks/task-999/steps');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('TASK_NOT_FOUND');
  });
});

describe('memories', () => {
  const send = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
  };

  it('remembers with scope, pin and expiry, and recalls across scopes with reasons and ranks', async () => {
    const stored = await post('/v1/memories', {
      project: 'mem-demo',
      kind: 'preference',
      content: 'use pnpm, never npm',
      tags: ['tooling'],
      scope: 'team:core',
      pinned: true,
      expiresAt: '2031-01-01T00:00:00Z',
    });
    expect(stored.status).toBe(201);
    expect(stored.json).toEqual({
      id: expect.any(String),
      tenant: 'default',
      project: 'mem-demo',
      kind: 'preference',
      content: 'use pnpm, never npm',
      tags: ['tooling'],
      scope: 'team:core',
      pinned: true,
      status: 'active',
      supersededBy: null,
      confidence: 1,
      expiresAt: '2031-01-01T00:00:00.000Z',
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
      topic: null,
      confirmations: 0,
      author: 'person',
      provenance: null,
    });

    const recalled = await get('/v1/memories?project=mem-demo&query=pnpm&limit=3&scopes=team:core,user:alice');
    expect(recalled.status).toBe(200);
    expect(fakeMemory.recalls.at(-1)).toEqual({ tenant: 'default', project: 'mem-demo', query: 'pnpm', limit: 3, kind: '', scopes: ['team:core', 'user:alice'] });
    expect(recalled.json).toEqual({
      vectorSearch: 'exact-scan',
      memories: [
        { memory: expect.objectContaining({ id: stored.json.id }), score: 1 / 61, why: 'keyword rank 1 (ts_rank 0.100)', keywordRank: 1, vectorRank: null },
      ],
    });
  });

  it('recalls with the query in a JSON body too, and names the field of a 1 MB query', async () => {
    const recalled = await post('/v1/memories/recall', { project: 'mem-demo', query: 'pnpm', limit: 2, scopes: ['team:core'] });
    expect(recalled.status).toBe(200);
    expect(fakeMemory.recalls.at(-1)).toEqual({ tenant: 'default', project: 'mem-demo', query: 'pnpm', limit: 2, kind: '', scopes: ['team:core'] });
    expect(recalled.json.memories.length).toBeGreaterThan(0);
    const before = fakeMemory.recalls.length;
    const huge = await post('/v1/memories/recall', { project: 'mem-demo', query: 'q'.repeat(1_000_000) });
    expect(huge.status).toBe(400);
    expect(huge.json.error.field).toBe('query');
    const blank = await post('/v1/memories/recall', { project: 'mem-demo', query: '   ' });
    expect([blank.status, blank.json.error.field]).toEqual([400, 'query']);
    expect(fakeMemory.recalls.length).toBe(before);
  });

  it('says when recall was degraded to keyword search', async () => {
    fakeMemory.warning = 'vector search skipped, keyword search only: embedder local:hash-v1:384 failed (down)';
    try {
      const recalled = await get('/v1/memories?project=mem-demo&query=pnpm');
      expect(recalled.json).toMatchObject({ vectorSearch: 'none', warning: fakeMemory.warning });
    } finally {
      fakeMemory.warning = '';
    }
  });

  it('lists without a query: active ones, or all with includeInactive, of one scope when asked', async () => {
    const a = await post('/v1/memories', { project: 'mem-list', kind: 'project', content: 'first' });
    const b = await post('/v1/memories', { project: 'mem-list', kind: 'project', content: 'second', scope: 'user:bob' });
    await send('PATCH', `/v1/memories/${a.json.id as string}`, { status: 'retired' });
    const active = await get('/v1/memories?project=mem-list');
    expect(active.status).toBe(200);
    expect(active.json.memories.map((m: { id: string }) => m.id)).toEqual([b.json.id]);
    expect(fakeMemory.lists.at(-1)).toEqual({ tenant: 'default', project: 'mem-list', kind: '', limit: 0, includeInactive: false, scope: '' });
    const all = await get('/v1/memories?project=mem-list&includeInactive=true&limit=200');
    expect(all.json.memories.map((m: { id: string; status: string }) => [m.id, m.status])).toEqual([
      [a.json.id, 'retired'],
      [b.json.id, 'active'],
    ]);
    await get('/v1/memories?project=mem-list&scope=user:bob&kind=project');
    expect(fakeMemory.lists.at(-1)).toEqual({ tenant: 'default', project: 'mem-list', kind: 'project', limit: 0, includeInactive: false, scope: 'user:bob' });
  });

  it('pins, edits, retags, sets and clears the expiry, and retires with PATCH', async () => {
    const m = await post('/v1/memories', { project: 'mem-patch', kind: 'project', content: 'old words', tags: ['x'] });
    const id = m.json.id as string;
    const pinned = await send('PATCH', `/v1/memories/${id}`, { pinned: true });
    expect(pinned.status).toBe(200);
    expect(pinned.json).toMatchObject({ id, pinned: true, content: 'old words', tags: ['x'] });
    expect(fakeMemory.updates.at(-1)).toEqual({ tenant: 'default', id, pinned: true, tags: [], setTags: false, clearExpiry: false });

    const edited = await send('PATCH', `/v1/memories/${id}`, { content: 'new words', tags: [], expiresAt: '2031-06-01T00:00:00Z' });
    expect(edited.json).toMatchObject({ content: 'new words', tags: [], expiresAt: '2031-06-01T00:00:00.000Z' });
    expect(fakeMemory.updates.at(-1)).toEqual({
      tenant: 'default',
      id,
      content: 'new words',
      tags: [],
      setTags: true,
      expiresAt: new Date('2031-06-01T00:00:00Z'),
      clearExpiry: false,
    });
    const cleared = await send('PATCH', `/v1/memories/${id}`, { expiresAt: null, status: 'retired' });
    expect(cleared.json).toMatchObject({ expiresAt: null, status: 'retired' });
    expect(fakeMemory.updates.at(-1)).toMatchObject({ clearExpiry: true, status: 'retired' });
  });

  it('forgets with DELETE: 204, then 404 naming the memory', async () => {
    const m = await post('/v1/memories', { project: 'mem-delete', kind: 'project', content: 'short-lived' });
    const first = await send('DELETE', `/v1/memories/${m.json.id as string}`);
    expect(first).toEqual({ status: 204, json: undefined });
    const again = await send('DELETE', `/v1/memories/${m.json.id as string}`);
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('MEMORY_NOT_FOUND');
    const patch = await send('PATCH', `/v1/memories/${m.json.id as string}`, { pinned: true });
    expect(patch.status).toBe(404);
    expect(patch.json.error.code).toBe('MEMORY_NOT_FOUND');
  });

  it.each([
    ['kind missing', { project: 'demo', content: 'x' }, 'kind'],
    ['kind unknown', { project: 'demo', kind: 'gossip', content: 'x' }, 'kind'],
    ['content empty', { project: 'demo', kind: 'project', content: '' }, 'content'],
    ['content over 20 000 characters', { project: 'demo', kind: 'project', content: 'x'.repeat(20_001) }, 'content'],
    ['tags not a list', { project: 'demo', kind: 'project', content: 'x', tags: 'a' }, 'tags'],
    ['pinned not a boolean', { project: 'demo', kind: 'project', content: 'x', pinned: 'yes' }, 'pinned'],
    ['an expiry that is not a time', { project: 'demo', kind: 'project', content: 'x', expiresAt: 'tomorrow' }, 'expiresAt'],
    ['an expiry in the past (said by the memory service)', { project: 'demo', kind: 'project', content: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
    ['an unknown field', { project: 'demo', kind: 'project', content: 'x', confidence: 0.5 }, 'confidence'],
  ])('rejects a memory with %s naming the field', async (_case, body, field) => {
    const before = memories.length;
    const { status, json } = await post('/v1/memories', body);
    expect(status).toBe(400);
    expect(json.error.field).toBe(field);
    expect(json.error.message.startsWith(`${field}: `)).toBe(true);
    expect(memories.length).toBe(before);
  });

  it.each([
    ['an empty query', '/v1/memories?project=demo&query=', 'query'],
    ['a blank query', `/v1/memories?project=demo&query=${encodeURIComponent('   ')}`, 'query'],
    ['a query over 2 000 characters', `/v1/memories?project=demo&query=${'q'.repeat(2_001)}`, 'query'],
    ['no project', '/v1/memories?query=pnpm', 'project'],
    ['a negative limit', '/v1/memories?project=demo&query=pnpm&limit=-1', 'limit'],
    ['a limit over 50 (said by the memory service)', '/v1/memories?project=demo&query=pnpm&limit=51', 'limit'],
    ['an unknown kind', '/v1/memories?project=demo&query=pnpm&kind=gossip', 'kind'],
    ['an unknown scope (said by the memory service)', '/v1/memories?project=demo&query=pnpm&scopes=user:alice,org:acme', 'scopes[1]'],
    ['a list-only parameter', '/v1/memories?project=demo&query=pnpm&includeInactive=true', 'includeInactive'],
    ['scopes without a query', '/v1/memories?project=demo&scopes=user:alice', 'scopes'],
  ])('rejects a recall or list with %s naming the field', async (_case, path, field) => {
    const { status, json } = await get(path);
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
    expect(json.error.message.startsWith(`${field}: `)).toBe(true);
  });

  it.each([
    ['a status a person cannot set', { status: 'superseded' }, 'status'],
    ['blank content', { content: '  ' }, 'content'],
    ['an expiry that is not a time', { expiresAt: '31/12/2031' }, 'expiresAt'],
    ['an unknown field', { topic: 'x' }, 'topic'],
  ])('rejects a PATCH with %s naming the field', async (_case, body, field) => {
    const m = await post('/v1/memories', { project: 'mem-bad-patch', kind: 'project', content: 'unchanged' });
    const { status, json } = await send('PATCH', `/v1/memories/${m.json.id as string}`, body);
    expect(status).toBe(400);
    expect(json.error.field).toBe(field);
    expect(memories.find((x) => x.id === m.json.id)?.content).toBe('unchanged');
  });
});

describe('definitions over gRPC', () => {
  async function put(name: string, body: unknown): Promise<{ status: number; json: any }> {
    const response = await fetch(`${base}/v1/definitions/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: await response.json() };
  }
  const review = { id: 'review', initial: 'review', states: { review: { on: { DONE: 'done' } }, done: { type: 'final', meta: { n: 1 } } } };

  it('stores versions (201, then 200 for the same document), diffs them, and names the fault of a bad one', async () => {
    expect(await put('review', review)).toMatchObject({ status: 201, json: { name: 'review', version: 1, definition: review } });
    expect(await put('review', review)).toMatchObject({ status: 200, json: { version: 1 } });
    const next = { id: 'review', initial: 'review', states: { review: { on: { DONE: 'done' } }, done: { type: 'final', meta: { n: 2, tags: ['x'] } } } };
    expect(await put('review', next)).toMatchObject({ status: 201, json: { version: 2 } });
    expect(await get('/v1/definitions/review/diff?from=1&to=2')).toEqual({
      status: 200,
      json: {
        name: 'review', fromVersion: 1, toVersion: 2,
        changes: [
          { path: '/states/done/meta/n', op: 'changed', before: 1, after: 2 },
          { path: '/states/done/meta/tags', op: 'added', after: ['x'] },
        ],
      },
    });
    expect(await put('review', { id: 'review', initial: 'nowhere', states: { done: { type: 'final' } } })).toMatchObject({
      status: 400,
      json: { error: { code: 'INVALID_DEFINITION', message: 'initial: unknown state "nowhere" (known: done)', field: 'initial' } },
    });
    expect((await get('/v1/definitions/review/versions')).json.definitions.map((d: { version: number }) => d.version)).toEqual([2, 1]);
    expect(await get('/v1/definitions/nothing')).toMatchObject({ status: 404, json: { error: { code: 'DEFINITION_NOT_FOUND' } } });
  });
});

describe('GET /v1/locks over gRPC', () => {
  it('shows leases with 64-bit fencing tokens as strings, and waiters', async () => {
    locks.grant('executor:exec-a:7c1d0e52-3b4a-4f6e-9d21-8a5b6c7d8e9f:s1', ['file:/srv/demo/src/cli.ts'], 60_000);
    locks.queue('executor:exec-b:7c1d0e52-3b4a-4f6e-9d21-8a5b6c7d8e9f:s2', ['file:/srv/demo/src/cli.ts'], 30_000);
    const { status, json } = await get('/v1/locks?prefix=file%3A%2Fsrv%2Fdemo');
    expect(status).toBe(200);
    expect(json.leases).toEqual([expect.objectContaining({ owner: 'executor:exec-a:7c1d0e52-3b4a-4f6e-9d21-8a5b6c7d8e9f:s1', fencingToken: '1', expiresAt: '2030-01-02T03:05:05.000Z' })]);
    expect(json.waiters).toEqual([expect.objectContaining({ owner: 'executor:exec-b:7c1d0e52-3b4a-4f6e-9d21-8a5b6c7d8e9f:s2', deadline: '2030-01-02T03:04:35.000Z' })]);
  });
});

describe('GET /v1/events over NATS', () => {
  it('streams the caller\'s tenant\'s run and task lifecycle events from the bus, without agent steps', async () => {
    const stream = await openEventStream(`${base}/v1/events`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toMatch(/^text\/event-stream/);
      // Published until the first arrives: the stream's listener is live once the headers are sent.
      await publisher.publish(Subjects.workStep, liveStep(agentStep('s1', 'exec-a', 9, 9, 'run-global')));
      await publisher.publish(Subjects.runTransitioned, runEvent('run-global', 2, 'intake', 'plan'));
      // Another tenant's task: not on this caller's stream.
      await publisher.publish(Subjects.taskUpdated, { taskId: 'task-other', tenant: 'globex', status: 'running', at: at.toISOString() });
      await publisher.publish(Subjects.taskUpdated, { taskId: 'task-global', tenant: 'default', status: 'running', runId: 'run-global', at: at.toISOString() });
      expect(await stream.next()).toMatchObject({ event: 'run.transitioned', data: { runId: 'run-global', seq: 2 } });
      expect(await stream.next()).toMatchObject({ event: 'task.updated', data: { taskId: 'task-global', status: 'running' } });
    } finally {
      await stream.cancel();
    }
  });
});

describe('health', () => {
  it('is ok while NATS is connected and the orchestrator is SERVING, 503 when it is not', async () => {
    const ok = await get('/healthz');
    expect(ok).toEqual({ status: 200, json: { status: 'ok', nats: 'connected', orchestrator: 'serving' } });

    orchestratorServer.health.setStatus('', HealthCheckResponse_ServingStatus.NOT_SERVING);
    try {
      const down = await get('/healthz');
      expect(down).toEqual({ status: 503, json: { status: 'unavailable', nats: 'connected', orchestrator: 'not_serving' } });
    } finally {
      orchestratorServer.health.setStatus('', HealthCheckResponse_ServingStatus.SERVING);
    }
  });

  it('answers grpc.health.v1 Check on its own gRPC address', async () => {
    const client = createGrpcClient(HealthClient, `127.0.0.1:${gateway.grpcPort}`, { deadlineMs: 5000 });
    try {
      const response = await client.call.check({ service: '' });
      expect(response.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      client.close();
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { status, json } = await get('/v2/nothing');
    expect(status).toBe(404);
    expect(json.error.code).toBe('ROUTE_NOT_FOUND');
  });
});

// Last: it stops the memory server for good.
describe('an upstream that is down', () => {
  it('answers 503 naming the service, and the gateway stays up', async () => {
    await memoryServer.shutdown();
    const { status, json } = await post('/v1/memories', { project: 'demo', kind: 'project', content: 'monorepo' });
    expect(status).toBe(503);
    expect(json.error.message).toMatch(/^memory is unavailable/);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('shows runs without their steps while the orchestrator is down, and answers 503 for task steps', async () => {
    await orchestratorServer.shutdown();
    const run = await get('/v1/runs/run-done');
    expect(run.status).toBe(200);
    expect(run.json).toMatchObject({ id: 'run-done', status: 'done', stepsUnavailable: true });
    expect(run.json.history).toHaveLength(2);
    expect(run.json.steps).toBeUndefined();

    const stream = await openEventStream(`${base}/v1/runs/run-done/events`);
    const frames: Frame[] = [];
    for (let frame = await stream.next(); frame; frame = await stream.next()) frames.push(frame);
    expect(frames.map((f) => f.comment ?? f.event)).toEqual(['run.transitioned', 'run.transitioned', 'recorded steps unavailable', 'run.finished']);

    const steps = await get('/v1/tasks/task-steps/steps');
    expect(steps.status).toBe(503);
    expect(steps.json.error.message).toMatch(/^orchestrator is unavailable/);
  });
});
