/**
 * The router over a real gRPC server (127.0.0.1, port 0) and the real NATS server: Route,
 * Complete and StreamComplete through the generated client, field-naming INVALID_ARGUMENT
 * errors, and the `maestro.events.llm.completed` event arriving on the bus.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import {
  LlmCompletedEventSchema,
  RouterServiceClient,
  RouterServiceService,
  Streams,
  Subjects,
  type CompleteChunk,
  type CompleteRequest,
  type CompleteResponse,
  type LlmCompletedEvent,
  type RouteDecision,
  type RouteRequest,
} from '@maestro/contracts';
import { ErrorMetadataKeys, createGrpcServer, createLogger, createSilentLogger, type GrpcServer } from '@maestro/runtime';
import { connectBus, type Bus } from '@maestro/bus';
import { loadRouterConfig } from '../src/config.js';
import { createRoleProviders } from '../src/providers.js';
import { createRouterHandlers } from '../src/transport/grpc/router.handler.js';
import { createBusLlmEventPublisher } from '../src/transport/nats/llm-events.publisher.js';

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

  bus = await connectBus({ url: natsUrl, name: 'router-test', logger: createSilentLogger(), namespace: `rt${randomUUID().slice(0, 8)}`, streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  bus.subscribe(Subjects.llmCompleted, LlmCompletedEventSchema, (event) => void events.push(event));

  server = createGrpcServer({ address: config.grpcAddr, logger, serviceNames: ['maestro.v1.RouterService'] });
  server.add(RouterServiceService, createRouterHandlers({ routes: createRoleProviders(config), events: createBusLlmEventPublisher(bus) }));
  const port = await server.start();
  client = new RouterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
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
    messages: [{ role: 'user', content: 'Add a sum function', toolCalls: [], toolCallId: '', name: '' }],
    tools: [],
    maxOutputTokens: 0,
    taskId: '',
    runId: '',
    subtaskId: '',
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
    expect(await route({ role: '', intent: 'review' })).toEqual({
      role: 'strategic',
      provider: 'scripted',
      model: 'scripted',
      reason: 'intent review goes to the strategic model',
      scripted: true,
    });
    expect(await route({ role: '', intent: 'code' })).toMatchObject({ role: 'tactical' });
    expect(await route({ role: 'tactical', intent: 'plan' })).toMatchObject({ role: 'tactical', reason: 'role tactical requested explicitly (intent plan)' });
  });

  it('Complete answers from the script, says it is scripted, and publishes llm.completed', async () => {
    const taskId = `task-${randomUUID()}`;
    const response = await complete(completeRequest({ intent: 'plan', taskId, runId: 'run-1' }));
    expect(response.message).toEqual({ role: 'assistant', content: 'Plan: 1) write sum.js 2) test it. Ready for review.', toolCalls: [], toolCallId: '', name: '' });
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
      { id: 'call_code_0_0', name: 'fs.write', argumentsJson: JSON.stringify({ path: 'sum.js', content: 'exports.sum = (a, b) => a + b;' }) },
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
    ['messages[0].role', completeRequest({ messages: [{ role: 'robot', content: 'x', toolCalls: [], toolCallId: '', name: '' }] })],
  ])('rejects a bad %s with INVALID_ARGUMENT naming the field', async (field, request) => {
    for (const call of [complete(request), streamComplete(request)]) {
      const err = await grpcError(call);
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details.startsWith(`${field}: `)).toBe(true);
      expect(err.metadata.get(ErrorMetadataKeys.field)).toEqual([field]);
    }
  });

  it('rejects a Route with an unknown intent, naming intent', async () => {
    const err = await grpcError(route({ role: '', intent: 'dance' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe('intent: unknown intent "dance"; expected one of plan, review, escalate, code');
  });

  it('reports an exhausted script as FAILED_PRECONDITION with the rule and turn', async () => {
    const err = await grpcError(
      complete(
        completeRequest({
          intent: 'plan',
          messages: [
            { role: 'user', content: 'plan', toolCalls: [], toolCallId: '', name: '' },
            { role: 'assistant', content: 'a plan', toolCalls: [], toolCallId: '', name: '' },
          ],
        }),
      ),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('script exhausted for rule plan at turn 1');
  });

  it('marks every log line about a completion with scripted: true', () => {
    const about = logLines.filter((l) => l.msg === 'completion done' || l.msg === 'completion failed');
    expect(about.length).toBeGreaterThanOrEqual(4);
    for (const line of about) expect(line.scripted).toBe(true);
  });
});
