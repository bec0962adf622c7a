/**
 * The router's metrics end to end: completions over a real gRPC server through the scripted
 * provider (and one that fails: no rule matches), events on the real NATS, then a scrape of
 * `/metrics`, parsed, showing tokens and cost by model and phase, model-call durations by
 * outcome, and gRPC durations by method and code.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatMessage, RouterServiceClient, Streams, type CompleteRequest } from '@maestro/contracts';
import { connectBus, type Bus } from '@maestro/bus';
import {
  createGrpcClient,
  createSilentLogger,
  parsePrometheusText,
  Registry,
  sampleValue,
  startMetricsServer,
  type GrpcClient,
  type GrpcServer,
  type MetricsServer,
} from '@maestro/runtime';
import { testServers } from '@maestro/testing';
import { loadRouterConfig } from '../src/config.js';
import { createRouterServer } from '../src/router-server.js';
import { InMemoryUsageLedger } from '../src/store/in-memory-usage-ledger.js';

const script = {
  description: 'router metrics test',
  rules: [{ name: 'plan', when: { intent: 'plan' }, turns: [{ content: 'Plan: 1) write sum.js 2) test it.' }] }],
};

let dir: string;
let bus: Bus;
let server: GrpcServer;
let metrics: MetricsServer;
let client: GrpcClient<RouterServiceClient>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-router-metrics-'));
  const scriptPath = join(dir, 'script.json');
  writeFileSync(scriptPath, JSON.stringify(script));
  const config = loadRouterConfig({
    MAESTRO_STRATEGIC_MODEL: 'scripted',
    MAESTRO_TACTICAL_MODEL: 'scripted',
    MAESTRO_SCRIPT_PATH: scriptPath,
    MAESTRO_ROUTER_GRPC_ADDR: '127.0.0.1:0',
  });
  const logger = createSilentLogger();
  const registry = new Registry();
  bus = await connectBus({ url: testServers.natsUrl, name: 'router-metrics-test', logger, namespace: `rm${randomUUID().slice(0, 8)}`, streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  ({ server } = createRouterServer(config, { ledger: new InMemoryUsageLedger(), bus, logger, metrics: registry }));
  const port = await server.start();
  metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, logger, registry });
  client = createGrpcClient(RouterServiceClient, `127.0.0.1:${port}`, { deadlineMs: 60_000 });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
  await metrics?.close();
  if (bus) {
    for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
    await bus.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

function completeRequest(intent: string): CompleteRequest {
  return {
    role: '',
    intent,
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
  };
}

async function scrape() {
  return parsePrometheusText(await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text());
}

it('a scrape after real completions shows tokens, cost and call durations by model and phase', async () => {
  const first = await client.call.complete(completeRequest('plan'));
  const second = await client.call.complete(completeRequest('plan'));
  await expect(client.call.complete(completeRequest('review'))).rejects.toBeDefined();

  const parsed = await scrape();
  const plan = { model: 'scripted', phase: 'plan' };
  const input = (first.usage?.inputTokens ?? 0) + (second.usage?.inputTokens ?? 0);
  const output = (first.usage?.outputTokens ?? 0) + (second.usage?.outputTokens ?? 0);
  expect(input).toBeGreaterThan(0);
  expect(sampleValue(parsed, 'maestro_llm_tokens_total', { ...plan, kind: 'input' })).toBe(input);
  expect(sampleValue(parsed, 'maestro_llm_tokens_total', { ...plan, kind: 'output' })).toBe(output);
  // Scripted replies cost nothing, and are priced as such.
  expect(parsed.samples.find((s) => s.name === 'maestro_llm_cost_usd_total' && s.labels.phase === 'plan')?.value).toBe(0);
  expect(sampleValue(parsed, 'maestro_llm_calls_total', { ...plan, outcome: 'ok' })).toBe(2);
  expect(sampleValue(parsed, 'maestro_llm_call_duration_seconds_count', { ...plan, outcome: 'ok' })).toBe(2);
  expect(sampleValue(parsed, 'maestro_llm_calls_total', { phase: 'review', outcome: 'error' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_llm_tokens_total', { phase: 'review' })).toBe(0);

  const grpc = { grpc_service: 'maestro.v1.RouterService', grpc_method: 'Complete' };
  expect(sampleValue(parsed, 'maestro_grpc_server_handling_seconds_count', { ...grpc, grpc_code: 'OK' })).toBe(2);
  expect(sampleValue(parsed, 'maestro_grpc_server_handling_seconds_count', grpc)).toBe(3);
});
