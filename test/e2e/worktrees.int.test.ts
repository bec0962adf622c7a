/**
 * Worktrees, the whole cluster as processes with scripted models: a task's subtasks work in
 * worktrees of their own on the task branch `maestro/<taskId>`, their commits land there through
 * the merge queue, the user's checkout (dirty on purpose) stays byte-identical, locks name the
 * repository (never a worktree), and no worktree is left behind.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockEventSchema, Subjects, WorkFinishedEventSchema, type LockEvent, type WorkFinishedEvent } from '@maestro/contracts';
import { postJson, startE2eCluster, waitForTaskEnd, writeE2eScript, type E2eCluster } from './harness.js';
import { waitUntil } from '@maestro/testing';

jest.setTimeout(180_000);

const git = (repo: string, ...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

function writeScript(): string {
  const names = ['left', 'right'];
  const plan = { subtasks: names.map((n, i) => ({ id: `s${i + 1}`, title: `Create src/${n}.js`, instructions: `Export ${n}().`, files: [`src/${n}.js`] })) };
  const code = names.map((n) => ({
    name: `code-${n}`,
    when: { intent: 'code', contains: `Create src/${n}.js` },
    turns: [
      { toolCalls: [{ name: 'exec', arguments: { argv: ['ls'] } }] },
      { toolCalls: [{ name: 'fs.write', arguments: { path: `src/${n}.js`, content: `export function ${n}() {\n  return '${n}';\n}\n` } }] },
      { toolCalls: [{ name: 'git.commit', arguments: { message: `Add ${n}` } }] },
      { content: `Added ${n}.` },
    ],
  }));
  return writeE2eScript('e2e: two subtasks in worktrees of the task branch', [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(plan) }] },
    ...code,
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'both added' }) }] },
  ]);
}

let e2e: E2eCluster;

beforeAll(async () => {
  e2e = await startE2eCluster({ scriptPath: writeScript(), executors: 2, executorConcurrency: 1 });
});

afterAll(async () => {
  await e2e?.stop();
});

it("lands every subtask's commit on maestro/<taskId>, leaving the user's checkout byte-identical", async () => {
  const repo = realpathSync(e2e.repo);
  // The user is busy in their checkout: an edit and a scratch file.
  writeFileSync(join(repo, 'src', 'add.js'), `${readFileSync(join(repo, 'src', 'add.js'), 'utf8')}// user's edit\n`);
  writeFileSync(join(repo, 'scratch.txt'), 'notes\n');
  const hash = (file: string) => createHash('sha256').update(readFileSync(join(repo, file))).digest('hex');
  const before = {
    status: git(repo, 'status', '--porcelain', '--untracked-files=all'),
    head: git(repo, 'rev-parse', 'HEAD'),
    ref: git(repo, 'symbolic-ref', 'HEAD'),
    branch: git(repo, 'rev-parse', git(repo, 'symbolic-ref', 'HEAD')),
    index: hash('.git/index'),
    add: hash('src/add.js'),
    scratch: hash('scratch.txt'),
  };

  const finished: WorkFinishedEvent[] = [];
  const grants: LockEvent[] = [];
  const subs = [
    e2e.bus.subscribe(Subjects.workFinished, WorkFinishedEventSchema, (event) => finished.push(event)),
    e2e.bus.subscribe(Subjects.lockAcquired, LockEventSchema, (event) => grants.push(event)),
  ];
  const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'Add left() and right().', repoPath: repo });
  const taskId = String(task['id']);
  const done = await waitForTaskEnd(e2e.gateway, taskId);
  // A subtask's work.finished follows its result, so it may still be on its way here.
  await waitUntil('a work.finished of both subtasks', () => new Set(finished.map((e) => e.subtaskId)).size >= 2);
  subs.forEach((s) => s.unsubscribe());

  expect(done['status']).toBe('succeeded');
  const branch = `maestro/${taskId}`;
  expect(git(repo, 'log', '--format=%s', `${e2e.baseSha}..${branch}`).split('\n')).toEqual(expect.arrayContaining(['Add left', 'Add right']));
  expect(git(repo, 'show', `${branch}:src/left.js`)).toContain("return 'left'");
  expect(git(repo, 'show', `${branch}:src/right.js`)).toContain("return 'right'");
  expect(finished.every((e) => e.ok)).toBe(true);
  expect(finished.map((e) => e.commitSha)).toContain(git(repo, 'rev-parse', branch));

  // The user's checkout: same status, HEAD, branch, index and file bytes.
  expect({
    status: git(repo, 'status', '--porcelain', '--untracked-files=all'),
    head: git(repo, 'rev-parse', 'HEAD'),
    ref: git(repo, 'symbolic-ref', 'HEAD'),
    branch: git(repo, 'rev-parse', before.ref),
    index: hash('.git/index'),
    add: hash('src/add.js'),
    scratch: hash('scratch.txt'),
  }).toEqual(before);

  // No worktree left; locks named the repository, and its git index once per merge.
  expect((git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm) ?? []).length).toBe(1);
  const concerns = grants.flatMap((g) => g.concerns);
  expect(concerns).toEqual(expect.arrayContaining([`file:${repo}/src/left.js`, `file:${repo}/src/right.js`]));
  expect(concerns.every((c) => !c.includes('maestro-worktrees'))).toBe(true);
  expect(grants.filter((g) => g.concerns.includes(`git-index:${repo}`))).toHaveLength(2);
});
