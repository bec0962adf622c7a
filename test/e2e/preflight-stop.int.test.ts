/**
 * Phase zero through the whole cluster as processes, with scripted models: a run whose
 * repository preflight cannot fix STOPS at `preflight` — the task fails with every violation
 * and what to do about it, the run never enters `plan`, no `plan` activity is dispatched and the
 * router records no model call for the task — while a run whose only problem is a stale
 * `.git/index.lock` has it removed, goes on through plan, code and review, and succeeds, the
 * preflight steps saying what was remedied.
 *
 * "No model was asked" is read where a person would read it: the router's usage ledger
 * (`usage` of GET /v1/tasks/:id and GET /v1/models/stats, which count failed calls too) and
 * the `llm.completed` events. The second test shows the same figures do count the calls of a
 * run that gets past preflight, so a zero in the first is not a zero by construction.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { prepareSampleRepo } from '@maestro/cli';
import { ActivityRequestedEventSchema, LlmCompletedEventSchema, Subjects, type ActivityRequestedEvent, type LlmCompletedEvent } from '@maestro/contracts';
import { waitUntil } from '@maestro/testing';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, writeE2eScript, type E2eCluster } from './harness.js';

jest.setTimeout(180_000);

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8', stdio: 'pipe' }).trim();

function writeScript(): string {
  const plan = { subtasks: [{ id: 's1', title: 'Create src/multiply.js', instructions: 'Export multiply(a, b).', files: ['src/multiply.js'] }] };
  return writeE2eScript('e2e: preflight stops a run before any model, or lets it go on after a safe remedy', [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(plan) }] },
    {
      name: 'code',
      when: { intent: 'code', contains: 'Create src/multiply.js' },
      turns: [
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'src/multiply.js', content: 'export function multiply(a, b) {\n  return a * b;\n}\n' } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add multiply' } }] },
        { content: 'Added multiply().' },
      ],
    },
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'multiply added' }) }] },
  ]);
}

/** A transition as GET /v1/runs/:id/history returns it. */
interface Transition {
  seq: number;
  fromState: string;
  toState: string;
  eventType: string;
}

/** A recorded step as GET /v1/tasks/:id/steps returns it. */
interface RecordedStep {
  step: number;
  kind: string;
  tool?: string;
  summary: string;
  ok: boolean;
  executorId: string;
}

/** Model calls the router's ledger holds for a task, as the task shows them. */
interface TaskUsage {
  total: { calls: number };
  byPhase: Array<{ phase: string; calls: number }>;
}

/** Every transition of a run, oldest first (every page). */
async function runHistory(gateway: string, runId: string): Promise<Transition[]> {
  const transitions: Transition[] = [];
  let afterSeq = 0;
  do {
    const page = await getJson(`${gateway}/v1/runs/${runId}/history?afterSeq=${afterSeq}`);
    transitions.push(...((page['transitions'] as Transition[] | undefined) ?? []));
    afterSeq = Number(page['nextAfterSeq'] ?? 0);
  } while (afterSeq !== 0);
  return transitions;
}

/** The steps preflight recorded for a task, in order. */
async function preflightSteps(gateway: string, taskId: string): Promise<RecordedStep[]> {
  const page = await getJson(`${gateway}/v1/tasks/${taskId}/steps?subtaskId=preflight&limit=100`);
  return (page['steps'] as RecordedStep[] | undefined) ?? [];
}

/** Every model call the router recorded in this cluster, over all models and phases (failed ones too). */
async function clusterModelCalls(gateway: string): Promise<number> {
  const body = await getJson(`${gateway}/v1/models/stats`);
  const stats = body['stats'] as Array<{ calls: number }> | undefined;
  if (stats === undefined) throw new Error(`GET /v1/models/stats answered without stats: ${JSON.stringify(body)}`);
  return stats.reduce((sum, s) => sum + s.calls, 0);
}

/** Watches the activity requests the engine dispatches and the model completions the router makes. */
async function watchDispatches(e2e: E2eCluster): Promise<{ requested: ActivityRequestedEvent[]; completed: LlmCompletedEvent[]; stop(): void }> {
  const requested: ActivityRequestedEvent[] = [];
  const completed: LlmCompletedEvent[] = [];
  const subs = [
    e2e.bus.subscribe(Subjects.activityRequested, ActivityRequestedEventSchema, (event) => requested.push(event)),
    e2e.bus.subscribe(Subjects.llmCompleted, LlmCompletedEventSchema, (event) => completed.push(event)),
  ];
  // The server knows both subscriptions before the task is submitted.
  await e2e.bus.connection.flush();
  return { requested, completed, stop: () => subs.forEach((s) => s.unsubscribe()) };
}

let e2e: E2eCluster;
let scriptPath: string | undefined;
let blocker: Server | undefined;
const extraRepos: string[] = [];

beforeAll(async () => {
  scriptPath = writeScript();
  e2e = await startE2eCluster({ scriptPath, executors: 1, executorConcurrency: 1 });
});

afterAll(async () => {
  if (blocker !== undefined) await new Promise((resolve) => blocker!.close(resolve));
  await e2e?.stop();
  for (const dir of extraRepos) rmSync(dir, { recursive: true, force: true });
  if (scriptPath !== undefined) rmSync(dirname(scriptPath), { recursive: true, force: true });
});

it('stops a run at preflight, before any model is asked, when the repository is mid-rebase and a required port is taken', async () => {
  // A copy of the sample of its own, left in the middle of a conflicting rebase.
  const copy = prepareSampleRepo(repoRoot).repo;
  extraRepos.push(copy);
  const repo = realpathSync(copy);
  writeFileSync(join(repo, 'src', 'add.js'), '// main\n');
  git(repo, 'commit', '-qam', 'main change');
  git(repo, 'switch', '-q', '-c', 'topic', 'HEAD~1');
  writeFileSync(join(repo, 'src', 'add.js'), '// topic\n');
  git(repo, 'commit', '-qam', 'topic change');
  expect(() => git(repo, 'rebase', 'main')).toThrow();
  expect(existsSync(join(repo, '.git', 'rebase-merge'))).toBe(true);

  // The repository needs a port that something else listens on.
  blocker = createServer();
  await new Promise<void>((resolve) => blocker!.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (blocker.address() as { port: number }).port;
  mkdirSync(join(repo, '.maestro'), { recursive: true });
  writeFileSync(join(repo, '.maestro', 'preflight.json'), JSON.stringify({ ports: [port] }));

  const callsBefore = await clusterModelCalls(e2e.gateway);
  const watch = await watchDispatches(e2e);
  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'Add a multiply function.', repoPath: repo });
  const taskId = String(submitted['id']);
  const done = await waitForTaskEnd(e2e.gateway, taskId);
  const runId = String(done['runId']);
  // The preflight request was dispatched long before the run ended; its event may still be on its way here.
  await waitUntil('the preflight request of the run', () => watch.requested.some((e) => e.runId === runId && e.activity === 'preflight'), 10_000);
  watch.stop();

  // The task failed, saying every problem and what to do about each.
  expect(done['status']).toBe('failed');
  const reason = String(done['failureReason']);
  expect(reason).toMatch(/^PREFLIGHT_FAILED: preflight found 2 problems/);
  expect(reason).toContain('no model was asked and nothing was planned');
  expect(reason).toContain('repository: the repository is in the middle of a rebase');
  expect(reason).toContain('git rebase --abort');
  expect(reason).toContain(`ports: 127.0.0.1:${port} is in use`);
  expect(reason).toContain('stop whatever listens there');
  expect(done['subtasks']).toEqual([]);

  // The run went intake → preflight → failed: preflight was the last state that worked, plan never entered.
  const history = await runHistory(e2e.gateway, runId);
  expect(history.map((t) => [t.fromState, t.toState, t.eventType])).toEqual([
    ['intake', 'preflight', 'activity.done'],
    ['preflight', 'failed', 'activity.failed'],
  ]);
  const run = await getJson(`${e2e.gateway}/v1/runs/${runId}`);
  expect(run).toMatchObject({ status: 'failed', state: 'failed', context: { error: { code: 'PREFLIGHT_FAILED', state: 'preflight' } } });

  // Nothing was dispatched after preflight, and no model was called: not for this task, not at all.
  expect(watch.requested.filter((e) => e.runId === runId).map((e) => e.activity)).toEqual(['intake', 'preflight']);
  expect(watch.completed.filter((e) => e.taskId === taskId)).toEqual([]);
  expect(done['usageError']).toBeNull();
  expect((done['usage'] as TaskUsage).total.calls).toBe(0);
  expect(await clusterModelCalls(e2e.gateway)).toBe(callsBefore);

  // Each check is a step a person reads; the baseline never ran.
  const steps = await preflightSteps(e2e.gateway, taskId);
  expect(steps.map((s) => [s.kind, s.tool ?? '', s.ok])).toEqual([
    ['tool', 'preflight.binaries', true],
    ['tool', 'preflight.repository', false],
    ['tool', 'preflight.index-lock', true],
    ['tool', 'preflight.orphans', true],
    ['tool', 'preflight.ports', false],
    ['tool', 'preflight.disk', true],
    ['tool', 'preflight.baseline', true],
    ['verdict', '', false],
  ]);
  expect(steps[6]?.summary).toContain('baseline: skipped: not run');
  expect(steps.every((s) => s.executorId === 'orion')).toBe(true);

  // Phase zero never finishes or aborts the user's rebase.
  expect(existsSync(join(repo, '.git', 'rebase-merge'))).toBe(true);
});

it('removes a stale .git/index.lock, runs the task to success and says so in the preflight steps', async () => {
  const repo = realpathSync(e2e.repo);
  const lock = join(repo, '.git', 'index.lock');
  writeFileSync(lock, '');
  // Older than the default safety floor (60 s): nothing here or elsewhere can still be writing it.
  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(lock, anHourAgo, anHourAgo);

  const watch = await watchDispatches(e2e);
  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'Add a multiply function.', repoPath: repo });
  const taskId = String(submitted['id']);
  const done = await waitForTaskEnd(e2e.gateway, taskId, 150_000);
  const runId = String(done['runId']);
  await waitUntil('the review request of the run', () => watch.requested.some((e) => e.runId === runId && e.activity === 'review'), 10_000);
  watch.stop();

  expect(done['status']).toBe('succeeded');
  expect(existsSync(lock)).toBe(false);
  expect(git(repo, 'show', `maestro/${taskId}:src/multiply.js`)).toContain('return a * b');

  // Past preflight the run went on as usual, and the same figures that were zero above count its model calls.
  const history = await runHistory(e2e.gateway, runId);
  expect(history.map((t) => [t.fromState, t.toState])).toEqual([
    ['intake', 'preflight'],
    ['preflight', 'plan'],
    ['plan', 'code'],
    ['code', 'review'],
    ['review', 'done'],
  ]);
  expect(watch.requested.filter((e) => e.runId === runId).map((e) => e.activity)).toEqual(['intake', 'preflight', 'plan', 'code', 'review']);
  const usage = done['usage'] as TaskUsage;
  expect(usage.total.calls).toBeGreaterThan(0);
  expect(usage.byPhase.map((p) => p.phase)).toContain('plan');

  // The preflight steps report the remedy.
  const steps = await preflightSteps(e2e.gateway, taskId);
  const indexLock = steps.find((s) => s.tool === 'preflight.index-lock');
  expect(indexLock).toMatchObject({ ok: true, summary: expect.stringContaining(`index-lock: remedied: removed the stale ${lock}`) });
  expect(steps.at(-1)).toMatchObject({ kind: 'verdict', ok: true, summary: expect.stringContaining('preflight passed after remedying index-lock') });
  expect(steps.filter((s) => !s.ok)).toEqual([]);
});
