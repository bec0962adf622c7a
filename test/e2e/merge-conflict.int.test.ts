/**
 * A merge conflict between two subtasks, the whole cluster as processes with scripted models:
 * both subtasks change the same line of src/add.js from the same task-branch tip; the one that
 * merges second conflicts, is never force-merged, gets the conflict as its task in a second
 * agent run in its worktree, resolves it, runs the tests and commits, and its merge lands on
 * `maestro/<taskId>` with both changes.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { Subjects, WorkStepEventSchema, type WorkStepEvent } from '@maestro/contracts';
import { postJson, startE2eCluster, waitForTaskEnd, writeE2eScript, type E2eCluster } from './harness.js';

jest.setTimeout(240_000);

const git = (repo: string, ...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

const RESOLVED = "/** Adds two numbers. */\nexport function add(a, b) {\n  // checked: numbers only\n  if (typeof a !== 'number' || typeof b !== 'number') throw new TypeError('numbers only');\n  return a + b;\n}\n";

function writeScript(): string {
  // Declared files differ (so Orion may run them side by side); both edit src/add.js.
  const plan = {
    subtasks: [
      { id: 's1', title: 'Comment add()', instructions: 'Document add() in place.', files: ['src/add.js'] },
      { id: 's2', title: 'Check add() arguments', instructions: 'Throw a TypeError for non-numbers.', files: ['test/add.test.js'] },
    ],
  };
  const edit = (name: string, title: string, body: string, message: string) => ({
    name,
    when: { intent: 'code', contains: title },
    turns: [
      { toolCalls: [{ name: 'fs.write', arguments: { path: 'src/add.js', content: `/** Adds two numbers. */\nexport function add(a, b) {\n${body}  return a + b;\n}\n` } }] },
      { toolCalls: [{ name: 'git.commit', arguments: { message } }] },
      { content: `${message}.` },
    ],
  });
  return writeE2eScript('e2e: two subtasks conflict on src/add.js; the second resolves the merge', [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(plan) }] },
    {
      name: 'resolve',
      when: { intent: 'code', contains: 'Merge conflict' },
      turns: [
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'src/add.js', content: RESOLVED } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Merge the task branch into the subtask' } }] },
        { content: 'Resolved the conflict, keeping both changes.' },
      ],
    },
    edit('comment', 'Comment add()', '  // checked: numbers only\n', 'Comment add'),
    edit('check', 'Check add() arguments', "  if (typeof a !== 'number' || typeof b !== 'number') throw new TypeError('numbers only');\n", 'Check add arguments'),
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'both changes in' }) }] },
  ]);
}

let e2e: E2eCluster;

beforeAll(async () => {
  e2e = await startE2eCluster({ scriptPath: writeScript(), executors: 2, executorConcurrency: 1 });
});

afterAll(async () => {
  await e2e?.stop();
});

it('hands the conflict to the agent, which resolves it; the task branch keeps both changes', async () => {
  const repo = realpathSync(e2e.repo);
  const steps: WorkStepEvent[] = [];
  const sub = e2e.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (event) => steps.push(event));
  const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'Document add() and check its arguments.', repoPath: repo });
  const taskId = String(task['id']);
  const done = await waitForTaskEnd(e2e.gateway, taskId, 180_000);
  await new Promise((r) => setTimeout(r, 500));
  sub.unsubscribe();

  expect(done['status']).toBe('succeeded');
  const branch = `maestro/${taskId}`;
  expect(git(repo, 'show', `${branch}:src/add.js`)).toBe(RESOLVED.trimEnd());
  const merges = steps.filter((s) => s.tool === 'merge').map((s) => s.summary);
  expect(merges.filter((m) => m.startsWith('merge conflict (attempt 1 of 2): src/add.js'))).toHaveLength(1);
  expect(merges.filter((m) => m.startsWith(`merged into ${branch}`))).toHaveLength(2);
  expect(git(repo, 'log', '-1', '--format=%s', branch)).toBe('Merge the task branch into the subtask');
  // The user's branch never moved, and no worktree is left.
  expect(git(repo, 'rev-parse', 'HEAD')).toBe(e2e.baseSha);
  expect((git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm) ?? []).length).toBe(1);
});
