/**
 * The router over a real gRPC server (127.0.0.1, port 0), the real NATS server and a fresh
 * PostgreSQL database for its usage ledger: Route, Complete and StreamComplete through the
 * generated client, field-naming INVALID_ARGUMENT errors, the `maestro.events.llm.completed`
 * event arriving on the bus, task budgets, durable usage totals, model stats and intents.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import {
  ChatMessage,
  LlmCompletedEventSchema,
  RouterServiceClient,
  Streams,
  Subjects,
  type CompleteChunk,
  type CompleteRequest,
  type CompleteResponse,
  type IntentClassification,
  type ListTaskUsageTotalsResponse,
  type ModelStats,
  type TaskUsage,
  type LlmCompletedEvent,
  type RouteDecision,
  type RouteRequest,
} from '@maestro/contracts';
import { ErrorMetadataKeys, createLogger, createSilentLogger, type GrpcServer } from '@maestro/runtime';
import { connectBus, type Bus, type WorkConsumer } from '@maestro/bus';
import { createDb, type Kysely } from '@maestro/db';
import { createTestDatabase, type TestDatabase } from '@maestro/testing';
import { loadRouterConfig } from '../src/config.js';
import { createRouterServer } from '../src/router-server.js';
import { migrateRouterSchema } from '../src/store/migrations.js';
import { PostgresUsageLedger, type RouterDatabase } from '../src/store/postgres-usage-ledger.js';
import { subscribeWorkVerdicts } from '../src/transport/nats/work-verdicts.subscriber.js';

const natsUrl = 'nats://127.0.0.1:4222';

const script = {
  description: 'router integration test',
  rules: [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: 'Plan: 1) write sum.js 2) test it. Ready for review.' }] },
    {
      name: 'code',
      when: { intent: 'code' },
      turns: [{ content: 'Writing it.', toolCalls: [{ name: 'fs.write', arguments: { path: 'sum.js', content: 'exports.sum = (a, b) => a + b;' } }] }],
    },
  ],
};

let dir: string;
let database: TestDatabase;
let db: Kysely<RouterDatabase>;
let verdicts: WorkConsumer;
let bus: Bus;
let server: GrpcServer;
let client: RouterServiceClient;
const events: LlmCompletedEvent[] = [];
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-router-'));
  const scriptPath = join(dir, 'script.json');
  writeFileSync(scriptPath, JSON.stringify(script));
  const config = loadRouterConfig({
    MAESTRO_STRATEGIC_MODEL: 'scripted',
    MAESTRO_TACTICAL_MODEL: 'scripted',
    MAESTRO_SCRIPT_PATH: scriptPath,
    MAESTRO_ROUTER_GRPC_ADDR: '127.0.0.1:0',
  });

  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ service: 'router', level: 'debug', destination });

  database = await createTestDatabase('router_test');
  db = createDb<RouterDatabase>({ url: database.url, maxConnections: 4 });
  await migrateRouterSchema(db, createSilentLogger());
  const ledger = new PostgresUsageLedger(db);

  bus = await connectBus({ url: natsUrl, name: 'router-test', logger: createSilentLogger(), namespace: `rt${randomUUID().slice(0, 8)}`, streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  bus.subscribe(Subjects.llmCompleted, LlmCompletedEventSchema, (event) => void events.push(event));

  verdicts = await subscribeWorkVerdicts(bus, ledger);
  ({ server } = createRouterServer(config, { ledger, bus, logger }));
  const port = await server.start();
  client = new RouterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
  await verdicts?.stop();
  await db?.destroy();
  await database?.drop();
  if (bus) {
    for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
    await bus.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

const route = (request: RouteRequest): Promise<RouteDecision> =>
  new Promise((resolve, reject) => client.route(request, (err, res) => (err ? reject(err) : resolve(res))));
const complete = (request: CompleteRequest): Promise<CompleteResponse> =>
  new Promise((resolve, reject) => client.complete(request, (err, res) => (err ? reject(err) : resolve(res))));
const streamComplete = (request: CompleteRequest): Promise<CompleteChunk[]> =>
  new Promise((resolve, reject) => {
    const chunks: CompleteChunk[] = [];
    const call = client.streamComplete(request);
    call.on('data', (chunk: CompleteChunk) => chunks.push(chunk));
    call.on('error', reject);
    call.on('end', () => resolve(chunks));
  });

function completeRequest(overrides: Partial<CompleteRequest>): CompleteRequest {
  return {
    role: '',
    intent: 'plan',
    messages: [ChatMessage.fromPartial({ role: 'user', content: 'Add a sum function' })],
    tools: [],
    maxOutputTokens: 0,
    taskId: '',
    runId: '',
    subtaskId: '',
    budgetUsd: 0,
    budgetTokens: 0,
    attempt: 0,
    taskIntent: '',
    ...overrides,
  };
}

/** Resolves once an event for `taskId` has arrived (the test timeout bounds the wait). */
function eventFor(taskId: string): Promise<LlmCompletedEvent> {
  return new Promise((resolve) => {
    const check = (): void => {
      const found = events.find((e) => e.taskId === taskId);
      if (found) resolve(found);
      else setTimeout(check, 10);
    };
    check();
  });
}

async function grpcError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('RouterService', () => {
  it('Route decides by intent, and an explicit role wins', async () => {
    expect(await route({ role: '', intent: 'review', taskIntent: '' })).toEqual({
      role: 'strategic',
      provider: 'scripted',
      model: 'scripted',
      spec: 'scripted',
      fallbacks: [],
      reason: 'rule "strategic phases": phase review → strategic',
      scripted: true,
    });
    expect(await route({ role: '', intent: 'code', taskIntent: '' })).toMatchObject({ role: 'tactical' });
    expect(await route({ role: 'tactical', intent: 'plan', taskIntent: '' })).toMatchObject({ role: 'tactical', reason: 'rule "explicit tactical role": phase plan, role tactical → tactical' });
  });

  it('Complete answers from the script, says it is scripted, and publishes llm.completed', async () => {
    const taskId = `task-${randomUUID()}`;
    const response = await complete(completeRequest({ intent: 'plan', taskId, runId: 'run-1' }));
    expect(response.message).toMatchObject({ role: 'assistant', content: 'Plan: 1) write sum.js 2) test it. Ready for review.', toolCalls: [], toolCallId: '', name: '' });
    expect(response.decision).toMatchObject({ role: 'strategic', provider: 'scripted', scripted: true });
    expect(response.finishReason).toBe('stop');
    expect(response.usage?.inputTokens).toBeGreaterThan(0);
    expect(response.usage?.outputTokens).toBeGreaterThan(0);
    expect(response.usage?.costUsd).toBe(0);

    const event = await eventFor(taskId);
    expect(event).toMatchObject({
      role: 'strategic',
      intent: 'plan',
      provider: 'scripted',
      model: 'scripted',
      scripted: true,
      inputTokens: response.usage?.inputTokens,
      outputTokens: response.usage?.outputTokens,
      costUsd: 0,
      taskId,
      runId: 'run-1',
    });
    expect(event.subtaskId).toBeUndefined();
  });

  it('Complete returns tool calls with deterministic ids', async () => {
    const response = await complete(
      completeRequest({
        intent: 'code',
        tools: [{ name: 'fs.write', description: 'write a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
      }),
    );
    expect(response.finishReason).toBe('tool_calls');
    expect(response.decision?.role).toBe('tactical');
    expect(response.message?.toolCalls).toEqual([
      { id: 'call_code_0_0', name: 'fs.write', argumentsJson: JSON.stringify({ path: 'sum.js', content: 'exports.sum = (a, b) => a + b;' }), thoughtSignature: '' },
    ]);
  });

  it('StreamComplete sends content chunks, then the final response, and publishes llm.completed', async () => {
    const taskId = `task-${randomUUID()}`;
    const chunks = await streamComplete(completeRequest({ intent: 'plan', taskId }));
    const deltas = chunks.filter((c) => c.contentDelta !== undefined).map((c) => c.contentDelta);
    expect(deltas.length).toBeGreaterThan(1);
    const last = chunks[chunks.length - 1];
    expect(last?.final?.message?.content).toBe('Plan: 1) write sum.js 2) test it. Ready for review.');
    expect(deltas.join('')).toBe(last?.final?.message?.content);
    expect(last?.final?.decision?.scripted).toBe(true);
    expect((await eventFor(taskId)).scripted).toBe(true);
  });

  it.each([
    ['intent', completeRequest({ intent: 'dance' })],
    ['role', completeRequest({ role: 'boss' })],
    ['messages', completeRequest({ messages: [] })],
    ['messages[0].role', completeRequest({ messages: [ChatMessage.fromPartial({ role: 'robot', content: 'x' })] })],
    ['budget_usd', completeRequest({ budgetUsd: -1 })],
  ])('rejects a bad %s with INVALID_ARGUMENT naming the field', async (field, request) => {
    for (const call of [complete(request), streamComplete(request)]) {
      const err = await grpcError(call);
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details.startsWith(`${field}: `)).toBe(true);
      expect(err.metadata.get(ErrorMetadataKeys.field)).toEqual([field]);
    }
  });

  it('rejects a Route with an unknown intent, naming intent', async () => {
    const err = await grpcError(route({ role: '', intent: 'dance', taskIntent: '' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe('intent: unknown intent "dance"; expected one of plan, code, review, escalate, reflect, answer, classify');
  });

  it('reports an exhausted script as FAILED_PRECONDITION with the rule and turn', async () => {
    const err = await grpcError(
      complete(
        completeRequest({
          intent: 'plan',
          messages: [
            ChatMessage.fromPartial({ role: 'user', content: 'plan' }),
            ChatMessage.fromPartial({ role: 'assistant', content: 'a plan' }),
          ],
        }),
      ),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('script exhausted for rule plan at turn 1');
  });

  it('refuses calls once a task has spent its token budget, with the totals, and serves its durable totals', async () => {
    const taskId = `task-${randomUUID()}`;
    const first = await complete(completeRequest({ intent: 'plan', taskId, budgetTokens: 20 }));
    const spent = (first.usage?.inputTokens ?? 0) + (first.usage?.outputTokens ?? 0);
    expect(spent).toBeGreaterThanOrEqual(20); // the first call was allowed: nothing was spent before it
    const err = await grpcError(complete(completeRequest({ intent: 'plan', taskId, budgetTokens: 20 })));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain(`task ${taskId} has spent its budget (${spent} of 20 tokens)`);
    expect(err.metadata.get(ErrorMetadataKeys.code)).toEqual(['BUDGET_EXHAUSTED']);

    const usage = await new Promise<TaskUsage>((resolve, reject) => client.getTaskUsage({ taskId }, (e, r) => (e ? reject(e) : resolve(r))));
    expect(usage.total).toMatchObject({ calls: 1, inputTokens: first.usage?.inputTokens, outputTokens: first.usage?.outputTokens, costUsd: 0, scriptedCalls: 1, unpricedCalls: 0 });
    expect(usage.byPhase.map((p) => [p.phase, p.totals?.calls])).toEqual([['plan', 1]]);
    expect(usage.byModel.map((m) => m.spec)).toEqual(['scripted']);
  });

  it('serves the totals of several tasks in one ListTaskUsageTotals, and refuses bad id lists naming task_ids', async () => {
    const spender = `task-${randomUUID()}`;
    const idle = `task-${randomUUID()}`;
    const first = await complete(completeRequest({ intent: 'plan', taskId: spender }));
    const totals = (taskIds: string[]) =>
      new Promise<ListTaskUsageTotalsResponse>((resolve, reject) => client.listTaskUsageTotals({ taskIds }, (e, r) => (e ? reject(e) : resolve(r))));
    const answer = await totals([idle, spender]);
    expect(answer.usages.map((u) => [u.taskId, u.total?.calls, u.total?.inputTokens])).toEqual([
      [idle, 0, 0],
      [spender, 1, first.usage?.inputTokens],
    ]);
    for (const bad of [[], [spender, ''], [spender, spender], Array.from({ length: 501 }, (_, i) => `t${i}`)]) {
      const err = await grpcError(totals(bad));
      expect({ bad: bad.length, code: err.code, field: err.metadata.get(ErrorMetadataKeys.field) }).toEqual({ bad: bad.length, code: status.INVALID_ARGUMENT, field: ['task_ids'] });
    }
  });

  it('credits the models of a subtask attempt with its verdict from work.finished, in GetModelStats', async () => {
    const taskId = `task-${randomUUID()}`;
    await complete(completeRequest({ intent: 'code', taskId, subtaskId: 's1', attempt: 1 }));
    await bus.publishEvent(Subjects.workFinished, {
      taskId,
      runId: 'run-1',
      subtaskId: 's1',
      attempt: 1,
      ok: true,
      summary: 'done',
      filesChanged: [],
      executorId: 'e1',
      finishedAt: new Date().toISOString(),
    });
    const stats = async () =>
      new Promise<ModelStats>((resolve, reject) => client.getModelStats({ phase: 'code' }, (e, r) => (e ? reject(e) : resolve(r))));
    let code = (await stats()).stats.find((s) => s.spec === 'scripted');
    for (let i = 0; i < 100 && (code?.verdicts ?? 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      code = (await stats()).stats.find((s) => s.spec === 'scripted');
    }
    expect(code).toMatchObject({ phase: 'code', verdicts: 1, successes: 1, successRate: 1 });
    expect(code?.totals?.calls).toBeGreaterThanOrEqual(1);
    const bad = await grpcError(new Promise((resolve, reject) => client.getModelStats({ phase: 'dance' }, (e, r) => (e ? reject(e) : resolve(r)))));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
  });

  it('classifies a goal and names the workflow the policy picks', async () => {
    const result = await new Promise<IntentClassification>((resolve, reject) =>
      client.classifyIntent({ text: 'Fix the crash when the config file is missing' }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(result).toMatchObject({ intent: 'fix', workflow: 'coding', decidedBy: 'rules' });
    expect(result.confidence).toBeGreaterThan(0);
    expect(result.reason).not.toBe('');
    // Unsure, but the models here are scripted: none is asked.
    const unsure = await new Promise<IntentClassification>((resolve, reject) => client.classifyIntent({ text: 'look at the retry logic' }, (e, r) => (e ? reject(e) : resolve(r))));
    expect(unsure).toMatchObject({ intent: 'code', decidedBy: 'rules' });
    expect(unsure.confidence).toBeLessThan(0.4);
    const err = await grpcError(new Promise((resolve, reject) => client.classifyIntent({ text: '  ' }, (e, r) => (e ? reject(e) : resolve(r)))));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });

  it('marks every log line about a completion with scripted: true', () => {
    const about = logLines.filter((l) => l.msg === 'completion done' || l.msg === 'completion failed');
    expect(about.length).toBeGreaterThanOrEqual(4);
    for (const line of about) expect(line.scripted).toBe(true);
  });
});
