/**
 * The orchestrator's metrics end to end: Orion wired as `main.ts` wires it (its ports
 * instrumented, unfinished tasks counted in the real PostgreSQL), driven through a whole task on
 * the real NATS (submission, run events, plan, code with an escalation and a retried attempt,
 * agent steps, review, the run's end), then `/metrics` scraped over HTTP and parsed: task
 * statuses, escalation outcomes, subtask attempt durations, recorded steps and activity
 * durations moved as the work did. A second registry on the same database (another replica, or
 * this one restarted) reports the same unfinished tasks.
 */
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connectBus, type Bus } from '@maestro/bus';
import {
  ActivityResultSchema,
  Consumers,
  MemoryServiceClient,
  OrchestratorServiceClient,
  RouterServiceClient,
  Streams,
  Subjects,
  SubmitTaskRequest,
  SubtaskWorkSchema,
  WorkflowServiceClient,
  type ActivityRequest,
  type ActivityResult,
  type Escalation,
  type SubtaskResult,
  type SubtaskWork,
  type WorkStepEvent,
} from '@maestro/contracts';
import {
  createGrpcClient,
  createGrpcServer,
  createSilentLogger,
  parsePrometheusText,
  Registry,
  sampleValue,
  startMetricsServer,
  systemClock,
  type GrpcClient,
  type GrpcServer,
  type MetricsServer,
} from '@maestro/runtime';
import { createSandboxFromSettings } from '@maestro/agent';
import { testNamespace, testServers } from '@maestro/testing';
import { createOrchestratorMetrics, instrumentOrchestratorDeps, trackUnfinishedTasks } from '../src/metrics.js';
import { createOrchestrator, type Orchestrator } from '../src/orchestrator.js';
import { FsRepoProbe } from '../src/store/fs-repo-probe.js';
import { PostgresAgentStepStore } from '../src/store/postgres-agent-step-store.js';
import { PostgresTaskStatusCounts } from '../src/store/postgres-task-status-counts.js';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { Collector, createGitRepo, createScratchDatabase, FakeMemory, FakeRouter, FakeWorkflowEngine } from './harness.js';

const PLAN = { subtasks: ['s1', 's2'].map((id) => ({ id, title: `title ${id}`, instructions: `do ${id}`, files: [`src/${id}.js`] })) };

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let bus: Bus;
let peers: GrpcServer;
let clients: Array<{ close(): void }>;
let orchestrator: Orchestrator;
let client: GrpcClient<InstanceType<typeof OrchestratorServiceClient>>;
let metricsServer: MetricsServer;
let repo: { dir: string; remove(): Promise<void> };
const results = new Collector<ActivityResult>();
const subtaskWork = new Collector<SubtaskWork>();
const router = new FakeRouter();

beforeAll(async () => {
  scratch = await createScratchDatabase();
  const logger = createSilentLogger();
  const namespace = testNamespace('orchm');
  bus = await connectBus({ url: testServers.natsUrl, name: `orchestrator-metrics-${namespace}`, logger, namespace, streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  peers = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: [] });
  new FakeWorkflowEngine().register(peers);
  router.register(peers);
  new FakeMemory().register(peers);
  const peerAddr = `127.0.0.1:${await peers.start()}`;
  const workflow = createGrpcClient(WorkflowServiceClient, peerAddr);
  const routerClient = createGrpcClient(RouterServiceClient, peerAddr, { deadlineMs: 60_000 });
  const memory = createGrpcClient(MemoryServiceClient, peerAddr);
  clients = [workflow, routerClient, memory];

  // As main.ts wires it, on a registry of this test's own.
  const registry = new Registry();
  const metrics = createOrchestratorMetrics(registry);
  trackUnfinishedTasks(registry, new PostgresTaskStatusCounts(scratch.db), metrics);
  orchestrator = createOrchestrator(
    instrumentOrchestratorDeps(
      {
        logger, clock: systemClock, store: new PostgresTaskStore(scratch.db), steps: new PostgresAgentStepStore(scratch.db),
        repoProbe: new FsRepoProbe(), bus, router: routerClient.call, memory: memory.call, workflow: workflow.call,
        grpcAddress: '127.0.0.1:0', concurrency: 2, repoRoots: [realpathSync(tmpdir())], sandbox: await createSandboxFromSettings({}, logger),
      },
      metrics,
    ),
  );
  client = createGrpcClient(OrchestratorServiceClient, `127.0.0.1:${await orchestrator.start()}`);
  metricsServer = await startMetricsServer({ host: '127.0.0.1', port: 0, logger, registry });

  results.consumer = await bus.consume({
    stream: Streams.results.name, durable: 'test-activity-results', filterSubject: Subjects.activityResult, schema: ActivityResultSchema,
    handler: async (r) => void results.items.push(r),
  });
  subtaskWork.consumer = await bus.consume({
    stream: Streams.work.name, durable: 'test-executor-work', filterSubject: Subjects.subtaskWork, schema: SubtaskWorkSchema,
    handler: async (w) => void subtaskWork.items.push(w),
  });
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
});

afterAll(async () => {
  client?.close();
  await orchestrator?.stop();
  await metricsServer?.close();
  await results.consumer?.stop();
  await subtaskWork.consumer?.stop();
  if (bus) {
    for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
    await bus.close();
  }
  for (const c of clients ?? []) c.close();
  await peers?.shutdown();
  await scratch?.drop();
  await repo?.remove();
});

async function scrape() {
  const res = await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

async function settled(stream: string, durable: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const info = await bus.jsm.consumers.info(bus.namespace.stream(stream), bus.namespace.consumer(durable));
    if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`consumer ${durable} did not settle`);
}

type Run = { taskId: string; runId: string };

async function requestActivity(run: Run, activity: string): Promise<void> {
  const request: ActivityRequest = {
    workId: `${run.runId}:${activity}:1`, runId: run.runId, state: activity, activity, attempt: 1,
    context: { input: { taskId: run.taskId } }, requestedAt: new Date().toISOString(),
  };
  await bus.publish(Subjects.activityRequest('orchestrator', activity), request, { msgId: request.workId });
}

async function resultOf(run: Run, activity: string): Promise<ActivityResult> {
  const workId = `${run.runId}:${activity}:1`;
  const items = await results.waitFor((rs) => rs.some((r) => r.workId === workId), `the ${activity} result`);
  return items.find((r) => r.workId === workId)!;
}

function subtaskResult(run: Run, subtaskId: string, attempt: number): SubtaskResult {
  return {
    workId: `${run.taskId}:${subtaskId}:${attempt}`, taskId: run.taskId, runId: run.runId, subtaskId, attempt, ok: true,
    summary: `did ${subtaskId}`, filesChanged: [`src/${subtaskId}.js`], commitSha: `sha-${subtaskId}-${attempt}`,
    tests: { command: ['make', 'test'], exitCode: 0, passed: true, outputTail: 'ok' },
    executorId: 'executor-1', steps: 3, finishedAt: new Date().toISOString(),
  };
}

function escalation(run: Run, subtaskId: string): Escalation {
  const workId = `${run.taskId}:${subtaskId}:1`;
  const output = 'AssertionError: Missing expected exception (RangeError).';
  return {
    escalationId: workId, taskId: run.taskId, runId: run.runId, subtaskId, attempt: 1, executorId: 'executor-1', raisedAt: new Date().toISOString(),
    packet: {
      reason: 'tests_failed', subtask: { title: `title ${subtaskId}`, instructions: `do ${subtaskId}`, files: [`src/${subtaskId}.js`] },
      attempts: [{ step: 5, summary: 'make test: failed (exit 2)', ok: false }], steps: 4, lastDiff: '', failingTestOutput: output,
      agentAccount: 'The test must be wrong.', filesChanged: [`src/${subtaskId}.js`], tokensSpent: { input: 100, output: 10 },
    },
    result: {
      workId, taskId: run.taskId, runId: run.runId, subtaskId, attempt: 1, ok: false, summary: 'gave up', filesChanged: [`src/${subtaskId}.js`],
      failureReason: 'tests failed', executorId: 'executor-1', steps: 4, finishedAt: new Date().toISOString(),
      tests: { command: ['make', 'test'], exitCode: 2, passed: false, outputTail: output },
    },
  };
}

function step(run: Run, n: number): WorkStepEvent {
  return { taskId: run.taskId, runId: run.runId, subtaskId: 's1', executorId: 'executor-1', step: n, kind: 'tool', tool: 'fs.write', summary: `step ${n}`, ok: true, at: new Date().toISOString() };
}

async function runEvent(run: Run, subject: string, status: 'running' | 'done', state: string): Promise<void> {
  await bus.publish(subject, { runId: run.runId, definitionName: 'coding', status, state, input: { taskId: run.taskId }, at: new Date().toISOString() });
  await settled(Streams.events.name, Consumers.orchestratorRunEvents);
}

it('moves with a task from submission to success, and reads unfinished tasks from the database', async () => {
  router.replies.plan = JSON.stringify(PLAN);
  router.replies.escalate = JSON.stringify({ decision: 'hint', reason: 'the zero check is missing', hint: 'throw a RangeError when b is 0' });
  router.replies.review = JSON.stringify({ approved: true, summary: 'done and tested' });

  const submitted = await client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Add divide()', repoPath: repo.dir }));
  const run = { taskId: submitted.id, runId: submitted.runId };
  let parsed = await scrape();
  expect(sampleValue(parsed, 'maestro_tasks_unfinished', { status: 'pending' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_tasks_unfinished', { status: 'running' })).toBe(0);
  expect(sampleValue(parsed, 'maestro_task_status_changes_total', { status: 'pending' })).toBe(1);

  await runEvent(run, Subjects.runStarted, 'running', 'intake');
  parsed = await scrape();
  expect(sampleValue(parsed, 'maestro_tasks_unfinished', { status: 'pending' })).toBe(0);
  expect(sampleValue(parsed, 'maestro_tasks_unfinished', { status: 'running' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_task_status_changes_total', { status: 'running' })).toBe(1);

  // Plan, then code: two subtasks dispatched, the code result deferred.
  await requestActivity(run, 'plan');
  expect((await resultOf(run, 'plan')).ok).toBe(true);
  await requestActivity(run, 'code');
  await subtaskWork.waitFor((ws) => ws.filter((w) => w.taskId === run.taskId).length === 2, 'two subtasks dispatched');
  await settled(Streams.work.name, Consumers.orchestratorWork);

  // s1 succeeds with its steps (one delivered twice); s2 escalates, is hinted, and succeeds on attempt 2.
  for (const event of [step(run, 1), step(run, 2), step(run, 2)]) await bus.publish(Subjects.workStep, event);
  await settled(Streams.events.name, Consumers.orchestratorWorkSteps);
  await bus.publish(Subjects.subtaskResult, subtaskResult(run, 's1', 1), { msgId: `${run.taskId}:s1:1` });
  const e = escalation(run, 's2');
  await bus.publish(Subjects.escalation(run.taskId), e, { msgId: e.escalationId });
  await subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:s2:2`), 's2 dispatched again');
  await settled(Streams.escalations.name, Consumers.orchestratorEscalations);
  await bus.publish(Subjects.subtaskResult, subtaskResult(run, 's2', 2), { msgId: `${run.taskId}:s2:2` });
  expect((await resultOf(run, 'code')).ok).toBe(true);
  await settled(Streams.results.name, Consumers.orchestratorSubtaskResults);

  await requestActivity(run, 'review');
  expect((await resultOf(run, 'review')).ok).toBe(true);
  await settled(Streams.work.name, Consumers.orchestratorWork);
  await runEvent(run, Subjects.runFinished, 'done', 'done');

  parsed = await scrape();
  expect(sampleValue(parsed, 'maestro_tasks_unfinished', { status: 'running' })).toBe(0);
  expect(sampleValue(parsed, 'maestro_task_status_changes_total', { status: 'succeeded' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_escalations_total', { outcome: 'hint' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_escalations_total')).toBe(1);
  expect(sampleValue(parsed, 'maestro_subtask_attempt_duration_seconds_count', { outcome: 'succeeded' })).toBe(2);
  expect(sampleValue(parsed, 'maestro_subtask_attempt_duration_seconds_count', { outcome: 'retried' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_agent_steps_recorded_total', { kind: 'tool', outcome: 'recorded' })).toBe(2);
  expect(sampleValue(parsed, 'maestro_agent_steps_recorded_total', { kind: 'tool', outcome: 'duplicate' })).toBe(1);
  // Orion records the escalation and its decision as steps of the task too.
  expect(sampleValue(parsed, 'maestro_agent_steps_recorded_total', { kind: 'decision', outcome: 'recorded' })).toBe(1);
  const activity = (name: string, outcome: string) => sampleValue(parsed, 'maestro_orchestrator_activity_duration_seconds_count', { activity: name, outcome });
  expect(activity('plan', 'completed')).toBe(1);
  expect(activity('code', 'deferred')).toBe(1);
  expect(activity('review', 'completed')).toBe(1);
  expect(sampleValue(parsed, 'maestro_orchestrator_activity_duration_seconds_sum', { activity: 'plan' })).toBeGreaterThan(0);

  // Another replica (or this one after a restart) reads the same unfinished tasks from the database.
  await client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Add modulo()', repoPath: repo.dir }));
  const other = new Registry();
  trackUnfinishedTasks(other, new PostgresTaskStatusCounts(scratch.db), createOrchestratorMetrics(other));
  const fresh = parsePrometheusText(await other.metrics());
  expect(sampleValue(fresh, 'maestro_tasks_unfinished', { status: 'pending' })).toBe(1);
  expect(sampleValue(await scrape(), 'maestro_tasks_unfinished', { status: 'pending' })).toBe(1);
  expect(sampleValue(fresh, 'maestro_task_status_changes_total')).toBe(0);
});
