/**
 * The preflight activity end to end: requests published on the real NATS server, Orion checking
 * real temp git repositories, real sockets and real processes, results read back from
 * `maestro.results.activity`; and, through the activity runner with the real step store, each
 * check recorded as a step a person reads with ListAgentSteps.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Subjects, type ActivityRequest, type ActivityResult } from '@maestro/contracts';
import { createSilentLogger, systemClock } from '@maestro/runtime';
import { orchestratorActivities } from '../src/activities/activity-registry.js';
import { runActivity } from '../src/app/activity-runner.js';
import { FsPreflightProbe } from '../src/store/fs-preflight-probe.js';
import { FsRepoProbe } from '../src/store/fs-repo-probe.js';
import { GitBranchDelivery } from '../src/store/git-branch-delivery.js';
import { PostgresAgentStepStore } from '../src/store/postgres-agent-step-store.js';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { createGitRepo, startHarness, type Harness } from './harness.js';

let h: Harness;
const repos: Array<{ dir: string; remove(): Promise<void> }> = [];
const TEST_COMMAND = ['node', '--test', '--test-reporter=tap'];

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8', stdio: 'pipe' }).trim();

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
  for (const repo of repos) await repo.remove();
});

/**
 * A repository whose test suite has one passing test and, when `legacy`, one that already fails;
 * when `broken`, also a test file that fails as a whole (it throws while loading).
 */
async function repository(options: { legacy?: boolean; broken?: boolean } = {}): Promise<string> {
  const repo = await createGitRepo({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node --test' } }),
    'math.test.js': [
      "const test = require('node:test');",
      "const assert = require('node:assert');",
      "test('adds', () => assert.strictEqual(1 + 1, 2));",
      ...(options.legacy ? ["test('legacy rounding', () => assert.strictEqual(0.1 + 0.2, 0.3));"] : []),
      '',
    ].join('\n'),
    ...(options.broken ? { 'broken.test.js': "throw new Error('cannot load');\n" } : {}),
  });
  repos.push(repo);
  return repo.dir;
}

async function submit(repoPath: string): Promise<{ taskId: string; runId: string }> {
  const task = await h.client.call.submitTask({ tenant: '',
    goal: 'Add a multiply function', repoPath, testCommand: TEST_COMMAND, project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [],
  });
  return { taskId: task.id, runId: task.runId };
}

function preflightRequest(run: { taskId: string; runId: string }, preflight: Record<string, unknown> = {}): ActivityRequest {
  return {
    workId: `${run.runId}:preflight:1`,
    runId: run.runId,
    state: 'preflight',
    activity: 'preflight',
    attempt: 1,
    context: { input: { taskId: run.taskId }, outputs: { intake: {} }, preflight },
    requestedAt: new Date().toISOString(),
  };
}

async function preflight(run: { taskId: string; runId: string }, settings: Record<string, unknown> = {}): Promise<ActivityResult> {
  const request = preflightRequest(run, settings);
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'preflight'), request, { msgId: request.workId });
  const items = await h.results.waitFor((rs) => rs.some((r) => r.workId === request.workId), `result of ${request.workId}`);
  return items.find((r) => r.workId === request.workId)!;
}

function checkOf(result: ActivityResult, check: string): Record<string, unknown> | undefined {
  return (result.output?.checks as Array<Record<string, unknown>> | undefined)?.find((c) => c['check'] === check);
}

it('passes a healthy repository and records that its tests pass on HEAD', async () => {
  const dir = await repository();
  const result = await preflight(await submit(dir));
  expect(result.ok).toBe(true);
  expect(result.output).toMatchObject({ baselineFailures: [], baseline: { command: TEST_COMMAND, exitCode: 0, namesKnown: true } });
  expect((result.output?.checks as Array<{ check: string; status: string }>).map((c) => [c.check, c.status])).toEqual([
    ['binaries', 'passed'],
    ['repository', 'passed'],
    ['index-lock', 'passed'],
    ['orphans', 'passed'],
    ['ports', 'passed'],
    ['disk', 'passed'],
    ['baseline', 'passed'],
  ]);
});

it('removes a stale .git/index.lock and lets the run go on', async () => {
  const dir = await repository();
  const lock = join(dir, '.git', 'index.lock');
  writeFileSync(lock, '');
  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(lock, anHourAgo, anHourAgo);

  const result = await preflight(await submit(dir));
  expect(result.ok).toBe(true);
  expect(existsSync(lock)).toBe(false);
  expect(checkOf(result, 'index-lock')).toMatchObject({ status: 'remedied', summary: expect.stringContaining('removed the stale') });
});

it('stops the run before planning when a required port is in use, naming it, and asks no model', async () => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const dir = await repository();
    const run = await submit(dir);
    const calls = h.router.calls.length;
    const recalls = h.memory.recalls.length;
    const result = await preflight(run, { ports: [port] });
    expect(result).toMatchObject({ ok: false, error: { code: 'PREFLIGHT_FAILED', message: expect.stringContaining(`127.0.0.1:${port} is in use`) } });
    expect(result.error?.message).toContain('no model was asked');
    expect(checkOf(result, 'baseline')).toBeUndefined();
    expect(h.router.calls.length).toBe(calls);
    expect(h.memory.recalls.length).toBe(recalls);
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks).toEqual([]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

it('refuses a repository in the middle of a rebase, saying how to get out of it', async () => {
  const dir = await repository();
  const run = await submit(dir);
  writeFileSync(join(dir, 'math.test.js'), '// main\n');
  git(dir, 'commit', '-qam', 'main change');
  const main = git(dir, 'rev-parse', '--abbrev-ref', 'HEAD');
  git(dir, 'switch', '-q', '-c', 'topic', 'HEAD~1');
  writeFileSync(join(dir, 'math.test.js'), '// topic\n');
  git(dir, 'commit', '-qam', 'topic change');
  expect(() => git(dir, 'rebase', main)).toThrow();

  const result = await preflight(run);
  expect(result).toMatchObject({ ok: false, error: { code: 'PREFLIGHT_FAILED' } });
  expect(result.error?.message).toContain('the repository is in the middle of a rebase');
  expect(result.error?.message).toContain('git rebase --abort');
});

it('records the tests that already fail on HEAD as baseline failures, on the task its subtasks are dispatched from', async () => {
  const dir = await repository({ legacy: true });
  const run = await submit(dir);
  const result = await preflight(run);
  expect(result.ok).toBe(true);
  expect(result.output).toMatchObject({
    baselineFailures: ['legacy rounding'],
    baseline: { exitCode: 1, namesKnown: true, note: expect.stringContaining('legacy rounding') },
  });
  const stored = (await new PostgresTaskStore(h.db).getTask(run.taskId))?.task;
  expect(stored?.baselineFailures).toEqual(['legacy rounding']);
  expect(stored?.baselineExitCode).toBe(1);
});

it('names a test file that fails as a whole relative to the repository, not the baseline worktree', async () => {
  const dir = await repository({ broken: true });
  const run = await preflight(await submit(dir));
  expect(run.ok).toBe(true);
  const failures = (run.output as { baselineFailures: string[] }).baselineFailures;
  expect(failures).toContain('broken.test.js');
  expect(failures.some((name) => name.includes('maestro-baseline'))).toBe(false);
});

it('records each check as a step of the task, with its outcome, when the runner has the step store', async () => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const dir = await repository();
    const run = await submit(dir);
    const published: ActivityResult[] = [];
    const unused = (): never => {
      throw new Error('preflight must not call the router or memory');
    };
    const deps = {
      activities: orchestratorActivities,
      store: new PostgresTaskStore(h.db),
      repoProbe: new FsRepoProbe(),
      router: { complete: unused, classifyIntent: unused },
      memory: { recall: unused, learn: unused },
      work: { publishActivityResult: async (r: ActivityResult) => void published.push(r), publishSubtaskWork: unused },
      clock: systemClock,
      steps: new PostgresAgentStepStore(h.db),
      branchDelivery: new GitBranchDelivery(),
      preflightProbe: new FsPreflightProbe(),
    };
    await runActivity(preflightRequest(run, { ports: [port] }), deps, createSilentLogger());
    expect(published).toMatchObject([{ ok: false, error: { code: 'PREFLIGHT_FAILED' } }]);

    const { steps } = await h.client.call.listAgentSteps({ tenant: '', taskId: run.taskId, runId: '', subtaskId: 'preflight', limit: 0, after: '' });
    expect(steps.map((s) => [s.step, s.kind, s.tool, s.ok])).toEqual([
      [1, 'tool', 'preflight.binaries', true],
      [2, 'tool', 'preflight.repository', true],
      [3, 'tool', 'preflight.index-lock', true],
      [4, 'tool', 'preflight.orphans', true],
      [5, 'tool', 'preflight.ports', false],
      [6, 'tool', 'preflight.disk', true],
      [7, 'tool', 'preflight.baseline', true],
      [8, 'verdict', '', false],
    ]);
    expect(steps[4]?.summary).toContain(`ports: failed: 127.0.0.1:${port} is in use`);
    expect(steps[6]?.summary).toContain('baseline: skipped');
    expect(steps.every((s) => s.executorId === 'orion' && s.attempt === 1 && s.runId === run.runId)).toBe(true);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
