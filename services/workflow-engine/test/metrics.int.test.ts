/**
 * The workflow-engine's metrics end to end: the service wired as `main.ts` wires it (real
 * PostgreSQL and NATS), a coding run moved by a real activity result over JetStream and
 * cancelled by SendEvent-style CANCEL, then a scrape of `/metrics`, parsed, showing what moved:
 * runs started, finished and running, transition durations by definition, state and trigger,
 * activity requests and results, effect publishes.
 */
import { createSilentLogger, parsePrometheusText, Registry, sampleValue, startMetricsServer, type MetricsServer } from '@maestro/runtime';
import { createWorkflowEngineService, type WorkflowEngineService } from '../src/workflow-engine-service.js';
import { createEnvironment, resultFor, type Environment } from './harness.js';

let env: Environment;
let service: WorkflowEngineService;
let metrics: MetricsServer;

beforeAll(async () => {
  env = await createEnvironment();
  const registry = new Registry();
  service = createWorkflowEngineService({ address: '127.0.0.1:0', logger: createSilentLogger(), db: env.scratch.db, bus: env.bus, metrics: registry, sweepMs: 60_000 });
  await service.start();
  metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger(), registry });
});

afterAll(async () => {
  await metrics?.close();
  await service?.stop();
  await env?.close();
});

async function scrape() {
  const res = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

it('a scrape after real transitions shows runs, transition durations, requests, results and publishes', async () => {
  const before = await scrape();
  expect(sampleValue(before, 'maestro_workflow_runs_running')).toBe(0);
  expect(sampleValue(before, 'maestro_workflow_runs_started_total', { definition: 'coding' })).toBe(0);

  const { engine } = service;
  const kept = await engine.startRun({ definitionName: 'coding' });
  const cancelled = await engine.startRun({ definitionName: 'coding' });
  const intake = await env.requests.waitFor((r) => r.runId === kept.id && r.state === 'intake', 'intake request');
  await env.publishResult(resultFor(intake, { ok: true }));
  await env.requests.waitFor((r) => r.runId === kept.id && r.state === 'preflight', 'preflight request');
  await engine.cancelRun(cancelled.id, 'not needed');

  const after = await scrape();
  expect(sampleValue(after, 'maestro_workflow_runs_started_total', { definition: 'coding' })).toBe(2);
  expect(sampleValue(after, 'maestro_workflow_runs_finished_total', { definition: 'coding', status: 'cancelled' })).toBe(1);
  expect(sampleValue(after, 'maestro_workflow_runs_running')).toBe(1);
  expect(sampleValue(after, 'maestro_workflow_transition_seconds_count', { definition: 'coding', state: 'intake', trigger: 'result' })).toBe(1);
  expect(sampleValue(after, 'maestro_workflow_transition_seconds_count', { definition: 'coding', state: 'intake', trigger: 'event' })).toBe(1);
  expect(sampleValue(after, 'maestro_workflow_transition_seconds_sum', { definition: 'coding', state: 'intake', trigger: 'result' })).toBeGreaterThan(0);
  // Two intake requests, then the kept run's preflight request.
  expect(sampleValue(after, 'maestro_workflow_activity_requests_total', { activity: 'intake' })).toBe(2);
  expect(sampleValue(after, 'maestro_workflow_activity_requests_total', { activity: 'preflight' })).toBe(1);
  expect(sampleValue(after, 'maestro_workflow_activity_results_total', { outcome: 'applied' })).toBe(1);
  // started ×2, requests (+ activity.requested) ×3, transitioned ×2, finished ×1: each one publish effect.
  expect(sampleValue(after, 'maestro_workflow_effect_publish_seconds_count')).toBe(8);
  expect(sampleValue(after, 'maestro_workflow_effect_retries_total')).toBe(0);
  expect(sampleValue(after, 'maestro_workflow_effects_pending')).toBe(0);
});
