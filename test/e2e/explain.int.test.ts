/**
 * A question about the code, through the whole cluster as processes with the demo script's
 * scripted models: submitted without naming a workflow, the goal "What does src/add.js export?"
 * is classified `explain` and runs the read-only `explain` workflow (intake → answer → done).
 * The task succeeds with the demo script's answer, labelled as scripted, where a person reads it
 * (GET /v1/tasks/:id, `maestro show`, the end of `maestro run`); nothing is planned, no branch is
 * made, and the repository's HEAD, refs, worktrees and every file are byte for byte as before.
 * The same question with `workflow: "coding"` runs the coding workflow: the caller's choice wins
 * over the intent.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { prepareSampleRepo } from '@maestro/cli';
import { runToEnd, waitUntil } from '@maestro/testing';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from './harness.js';

jest.setTimeout(180_000);

const question = 'What does src/add.js export?';
const demoScriptPath = join(repoRoot, 'examples', 'scripts', 'demo-script.json');
const cliMain = join(repoRoot, 'packages', 'cli', 'dist', 'main.js');

/** The reply the demo script's `answer` rule gives any question, as the task stores it (labelled). */
function scriptedAnswer(): string {
  const script = JSON.parse(readFileSync(demoScriptPath, 'utf8')) as { rules: Array<{ name: string; turns: Array<{ content?: string }> }> };
  const content = script.rules.find((rule) => rule.name === 'answer')?.turns[0]?.content;
  if (content === undefined) throw new Error(`${demoScriptPath} has no "answer" rule with a reply`);
  return `[scripted reply, not a model's answer] ${content}`;
}

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: 'pipe' }).trim();

/** What a run could change in a repository: HEAD, every ref, the worktrees, the status, and each file's bytes. */
function snapshotRepo(repo: string): { head: string; refs: string; worktrees: string; status: string; files: Record<string, string> } {
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.git') walk(path);
      } else {
        files[relative(repo, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
      }
    }
  };
  walk(repo);
  return {
    head: git(repo, 'rev-parse', 'HEAD'),
    refs: git(repo, 'for-each-ref', '--format=%(refname) %(objectname)'),
    worktrees: git(repo, 'worktree', 'list', '--porcelain'),
    status: git(repo, 'status', '--porcelain', '--untracked-files=all'),
    files,
  };
}

/** A transition as GET /v1/runs/:id/history returns it. */
interface Transition {
  fromState: string;
  toState: string;
  eventType: string;
}

/** A recorded step as GET /v1/tasks/:id/steps returns it. */
interface RecordedStep {
  subtaskId: string;
  kind: string;
  executorId: string;
  ok: boolean;
  summary: string;
}

let e2e: E2eCluster;
const extraDirs: string[] = [];

beforeAll(async () => {
  // The demo script itself (read-only here): its `answer` rule answers any question.
  e2e = await startE2eCluster({ scriptPath: demoScriptPath, executors: 1, executorConcurrency: 1 });
});

afterAll(async () => {
  await e2e?.stop();
  for (const dir of extraDirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the built `maestro` against the test's cluster. */
function maestro(args: string[]): ReturnType<typeof runToEnd> {
  const stateDir = mkdtempSync(join(tmpdir(), 'maestro-explain-cli-'));
  extraDirs.push(stateDir);
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    MAESTRO_STATE_DIR: stateDir,
    MAESTRO_GATEWAY_URL: e2e.gateway,
    MAESTRO_API_KEY: e2e.apiKey,
  };
  return runToEnd(process.execPath, [cliMain, ...args], { env, cwd: repoRoot, timeoutMs: 90_000 });
}

it('answers a question on the read-only explain workflow, without a branch or a change to the repository', async () => {
  const repo = realpathSync(e2e.repo);
  const before = snapshotRepo(repo);
  expect(before.status).toBe('');

  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: question, repoPath: repo });
  const taskId = String(submitted['id']);
  // The goal's intent picked the workflow: nobody named one.
  expect(submitted['workflow']).toBe('explain');
  expect(submitted['intent']).toMatchObject({ intent: 'explain', confidence: expect.any(Number) });
  expect((submitted['intent'] as { confidence: number }).confidence).toBeGreaterThanOrEqual(0.5);

  const done = await waitForTaskEnd(e2e.gateway, taskId, 120_000);
  expect(done).toMatchObject({ status: 'succeeded', failureReason: '', workflow: 'explain', answer: scriptedAnswer(), subtasks: [], delivery: null });

  // intake → answer → done, on the explain definition.
  const runId = String(done['runId']);
  const run = await getJson(`${e2e.gateway}/v1/runs/${runId}`);
  expect(run).toMatchObject({ definitionName: 'explain', status: 'done', state: 'done' });
  const history = (await getJson(`${e2e.gateway}/v1/runs/${runId}/history`))['transitions'] as Transition[];
  expect(history.map((t) => [t.fromState, t.toState, t.eventType])).toEqual([
    ['intake', 'answer', 'activity.done'],
    ['answer', 'done', 'activity.done'],
  ]);

  // The one model call was the answer; its recall step is among the task's steps.
  const usage = done['usage'] as { total: { calls: number; scriptedCalls: number }; byPhase: Array<{ phase: string; calls: number }> };
  expect(usage.byPhase.map((p) => [p.phase, p.calls])).toEqual([['answer', 1]]);
  expect(usage.total).toMatchObject({ calls: 1, scriptedCalls: 1 });
  const steps = (await getJson(`${e2e.gateway}/v1/tasks/${taskId}/steps?limit=100`))['steps'] as RecordedStep[];
  expect(steps).toContainEqual(
    expect.objectContaining({ subtaskId: 'answer', kind: 'recall', executorId: 'orion', ok: true, summary: expect.stringContaining('for the answer prompt') }),
  );
  expect(steps.every((s) => s.subtaskId === 'answer')).toBe(true);

  // Read-only: no task branch, and HEAD, refs, worktrees and every file exactly as before.
  expect(git(repo, 'branch', '--list', `maestro/${taskId}`)).toBe('');
  expect(snapshotRepo(repo)).toEqual(before);

  // `maestro show` prints the answer whole.
  const shown = await maestro(['show', taskId]);
  expect({ code: shown.code, stderr: shown.stderr }).toEqual({ code: 0, stderr: '' });
  expect(shown.stdout).toContain(`run      ${runId} (workflow explain)`);
  expect(shown.stdout).toContain(`answer   ${scriptedAnswer()}\n`);
});

it('prints the answer at the end of `maestro run`, and puts it in the --json result', async () => {
  const copy = prepareSampleRepo(repoRoot).repo;
  extraDirs.push(copy);
  const repo = realpathSync(copy);
  const before = snapshotRepo(repo);

  const text = await maestro(['run', question, '--repo', repo]);
  expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
  const lines = text.stdout.trimEnd().split('\n');
  expect(lines.at(-1)).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d answer   ${scriptedAnswer().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  expect(text.stdout).toMatch(/state +intake → answer/);
  expect(text.stdout).toMatch(/task +\S+ succeeded/);

  const json = await maestro(['run', question, '--repo', repo, '--json']);
  expect(json.code).toBe(0);
  const result = JSON.parse(json.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
  expect(result).toMatchObject({ type: 'result', status: 'succeeded', answer: scriptedAnswer(), exitCode: 0, task: { workflow: 'explain' } });

  expect(snapshotRepo(repo)).toEqual(before);
});

it('runs the coding workflow for the same question when the caller names it', async () => {
  const copy = prepareSampleRepo(repoRoot).repo;
  extraDirs.push(copy);
  const repo = realpathSync(copy);

  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: question, repoPath: repo, workflow: 'coding' });
  const taskId = String(submitted['id']);
  // Still classified as a question; the caller's workflow wins over the one the intent picks.
  expect(submitted).toMatchObject({ workflow: 'coding', intent: { intent: 'explain' } });
  const runId = String(submitted['runId']);
  expect(runId).not.toBe('');
  // Started on coding: past intake it enters preflight, a state the explain workflow does not have.
  await waitUntil('the coding run to enter preflight', async () => {
    const run = await getJson(`${e2e.gateway}/v1/runs/${runId}`);
    const history = (await getJson(`${e2e.gateway}/v1/runs/${runId}/history`))['transitions'] as Transition[] | undefined;
    return run['definitionName'] === 'coding' && (history ?? []).some((t) => t.fromState === 'intake' && t.toState === 'preflight');
  }, 60_000);

  // Stopped here to keep the test short.
  await postJson(`${e2e.gateway}/v1/tasks/${taskId}/cancel`, { reason: 'the e2e test only needed it started' });
  const ended = await waitForTaskEnd(e2e.gateway, taskId, 60_000);
  expect(ended).toMatchObject({ status: 'cancelled', workflow: 'coding', answer: '' });
});
