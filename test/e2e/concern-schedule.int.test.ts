/**
 * Scheduling by concern, through the whole cluster as processes with scripted models: Orion
 * dispatches subtasks that touch the same file one after the other in plan order (the second
 * starts from the first one's merged work), and disjoint subtasks at the same time, each in a
 * worktree of its own; the user's checkout stays byte-identical and no worktree is left.
 *
 * Nothing here measures time. Order is read from one live subscription to every event (the
 * server's order), sequencing from what the second agent finds in its worktree, and parallelism
 * from a rendezvous the two agents can only pass together: each creates a marker file in a
 * directory outside the repository and waits (at most 20 s) for the other's. Run one after the
 * other, the first would give up waiting and its subtask would fail.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockEventSchema, LockWaitingEventSchema, Subjects, WorkFinishedEventSchema, WorkStepEventSchema } from '@maestro/contracts';
import { getJson, postJson, startE2eCluster, waitForTaskEnd, type E2eCluster } from './harness.js';

jest.setTimeout(240_000);

/** How long one agent waits at the rendezvous for the other; a bound, never asserted. */
// Generous: the other agent may be on an executor stalled by its first subtask (seconds on a
// loaded machine); under the exec tool's 120 s default timeout.
const RENDEZVOUS_WAIT_MS = 90_000;

/** The directory of the rendezvous script and its markers, outside every repository. */
const meetDir = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-e2e-meet-')));
const meetScript = join(meetDir, 'meet.cjs');
/** Where the model script is written. */
const scriptDir = mkdtempSync(join(tmpdir(), 'maestro-e2e-script-'));

/**
 * `node meet.cjs <me> <other>`: leaves the marker `<me>`, then waits for `<other>`; prints where
 * it ran (the agent's worktree) and exits 0 when they met, 1 when the other never came.
 */
const MEET_SOURCE = `const fs = require('node:fs');
const path = require('node:path');
const [me, other] = process.argv.slice(2);
fs.writeFileSync(path.join(__dirname, me), process.cwd());
const deadline = Date.now() + ${RENDEZVOUS_WAIT_MS};
const poll = () => {
  if (fs.existsSync(path.join(__dirname, other))) {
    console.log('met ' + other + ' cwd=' + process.cwd());
    return;
  }
  if (Date.now() > deadline) {
    console.log('no ' + other + ' within ${RENDEZVOUS_WAIT_MS} ms cwd=' + process.cwd());
    process.exit(1);
  }
  setTimeout(poll, 50);
};
poll();
`;

const ADD_BODY = '  return a + b;\n}\n';
const DOUBLE = 'export function double(n) {\n  return add(n, n);\n}\n';
const TRIPLE = 'export function triple(n) {\n  return add(n, double(n));\n}\n';

/** Tokens that pick a rule: each appears in exactly one goal or subtask title. */
const Tokens = {
  sameGoal: '[concern e2e: same file]',
  disjointGoal: '[concern e2e: disjoint files]',
  first: '[same-file first]',
  second: '[same-file second]',
  left: '[disjoint left]',
  right: '[disjoint right]',
} as const;

function writeScript(): string {
  const samePlan = {
    subtasks: [
      { id: 'first', title: `Add double() to src/add.js ${Tokens.first}`, instructions: 'Export double(n) below add().', files: ['src/add.js'] },
      { id: 'second', title: `Add triple() to src/add.js ${Tokens.second}`, instructions: 'Export triple(n) below double().', files: ['src/add.js'] },
    ],
  };
  const disjointPlan = {
    subtasks: (['left', 'right'] as const).map((n) => ({
      id: n,
      title: `Create src/${n}.js ${Tokens[n]}`,
      instructions: `Export ${n}().`,
      files: [`src/${n}.js`],
    })),
  };
  const disjointCode = (['left', 'right'] as const).map((n) => {
    const other = n === 'left' ? 'right' : 'left';
    return {
      name: `code-${n}`,
      when: { intent: 'code', contains: Tokens[n] },
      turns: [
        { toolCalls: [{ name: 'fs.write', arguments: { path: `src/${n}.js`, content: `export function ${n}() {\n  return '${n}';\n}\n` } }] },
        // Both files exist (each in its own worktree) before either agent passes this point.
        { toolCalls: [{ name: 'exec', arguments: { argv: ['node', meetScript, n, other] } }] },
        { toolCalls: [{ name: 'exec', arguments: { argv: ['ls', 'src'] } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: `Add ${n}` } }] },
        { content: `Added ${n}.` },
      ],
    };
  });
  const script = {
    description: 'e2e: subtasks on the same file in plan order, disjoint ones in parallel',
    rules: [
      { name: 'plan-same', when: { intent: 'plan', contains: Tokens.sameGoal }, turns: [{ content: JSON.stringify(samePlan) }] },
      { name: 'plan-disjoint', when: { intent: 'plan', contains: Tokens.disjointGoal }, turns: [{ content: JSON.stringify(disjointPlan) }] },
      {
        name: 'code-first',
        when: { intent: 'code', contains: Tokens.first },
        turns: [
          { toolCalls: [{ name: 'fs.edit', arguments: { path: 'src/add.js', old_str: ADD_BODY, new_str: `${ADD_BODY}\n${DOUBLE}` } }] },
          { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add double' } }] },
          { content: 'Added double().' },
        ],
      },
      {
        name: 'code-second',
        when: { intent: 'code', contains: Tokens.second },
        turns: [
          // What the worktree holds when this subtask starts: the first one's merged work.
          { toolCalls: [{ name: 'fs.read', arguments: { path: 'src/add.js' } }] },
          // Only applies on top of double(); on the base commit it finds nothing to replace.
          { toolCalls: [{ name: 'fs.edit', arguments: { path: 'src/add.js', old_str: DOUBLE, new_str: `${DOUBLE}\n${TRIPLE}` } }] },
          { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add triple' } }] },
          { content: 'Added triple().' },
        ],
      },
      ...disjointCode,
      { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'done as planned' }) }] },
    ],
  };
  const path = join(scriptDir, 'script.json');
  writeFileSync(path, JSON.stringify(script));
  return path;
}

const git = (repo: string, ...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** What the user would notice of their checkout: branch, HEAD, status, index and file bytes. */
function checkoutState(repo: string): Record<string, string> {
  const ref = git(repo, 'symbolic-ref', 'HEAD');
  return {
    ref,
    head: git(repo, 'rev-parse', 'HEAD'),
    branch: git(repo, 'rev-parse', ref),
    status: git(repo, 'status', '--porcelain', '--untracked-files=all'),
    index: sha256(join(repo, '.git', 'index')),
    'src/add.js': sha256(join(repo, 'src', 'add.js')),
    'test/add.test.js': sha256(join(repo, 'test', 'add.test.js')),
    'scratch.txt': sha256(join(repo, 'scratch.txt')),
  };
}

const worktreeCount = (repo: string): number => (git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm) ?? []).length;

/** One event as the watcher saw it, in arrival order. */
interface SeenEvent {
  subject: string;
  payload: Record<string, unknown>;
}

/** Watches every event of the cluster's namespace on one subscription, so `seen` keeps the server's order. */
function watchEvents(e2e: E2eCluster): { seen: SeenEvent[]; stop(): void } {
  const seen: SeenEvent[] = [];
  const sub = e2e.bus.subscribe(Subjects.allEvents, null, (payload, subject) => seen.push({ subject, payload: payload as Record<string, unknown> }));
  return { seen, stop: () => sub.unsubscribe() };
}

/** An agent step as GET /v1/tasks/:id/steps returns it. */
interface RecordedStep {
  subtaskId: string;
  executorId: string;
  step: number;
  kind: string;
  tool?: string;
  summary: string;
  ok: boolean;
}

/**
 * The task's recorded steps, every page. The orchestrator records steps from their events, so
 * this polls (bounded) until each subtask in `subtaskIds` has its verdict recorded.
 */
async function recordedSteps(gateway: string, taskId: string, subtaskIds: readonly string[]): Promise<RecordedStep[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const steps: RecordedStep[] = [];
    let after = '';
    do {
      const page = await getJson(`${gateway}/v1/tasks/${taskId}/steps?limit=1000${after === '' ? '' : `&after=${encodeURIComponent(after)}`}`);
      steps.push(...((page['steps'] as RecordedStep[] | undefined) ?? []));
      after = String(page['nextAfter'] ?? '');
    } while (after !== '');
    const complete = subtaskIds.every((id) => steps.some((s) => s.subtaskId === id && s.kind === 'verdict'));
    if (complete) return steps;
    if (Date.now() > deadline) throw new Error(`task ${taskId}: verdict steps of ${subtaskIds.join(', ')} not all recorded; have ${JSON.stringify(steps)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The recorded tool step of `subtaskId` whose call starts with `callPrefix` (e.g. `exec({"argv":["ls"`). */
function toolStep(steps: readonly RecordedStep[], subtaskId: string, callPrefix: string): RecordedStep {
  const found = steps.find((s) => s.subtaskId === subtaskId && s.kind === 'tool' && s.summary.startsWith(callPrefix));
  if (found === undefined) throw new Error(`no recorded step of ${subtaskId} starting with ${callPrefix}; steps: ${JSON.stringify(steps.filter((s) => s.subtaskId === subtaskId))}`);
  return found;
}

/** Submits a task on the cluster's repository and waits until it ends. */
async function runTask(e2e: E2eCluster, goal: string, project: string): Promise<{ taskId: string; done: Record<string, unknown> }> {
  const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal, repoPath: repo, project, workflow: 'coding' });
  const taskId = String(task['id']);
  const done = await waitForTaskEnd(e2e.gateway, taskId, 180_000);
  // Events published just before the task ended may still be on their way to the watcher.
  await new Promise((r) => setTimeout(r, 500));
  return { taskId, done };
}

let e2e: E2eCluster;
let repo: string;

beforeAll(async () => {
  writeFileSync(meetScript, MEET_SOURCE);
  // Two executors with one slot each: running two subtasks at once takes both, and a second
  // slot is always free, so a subtask that waits does so because Orion held it back.
  e2e = await startE2eCluster({
    scriptPath: writeScript(),
    executors: 2,
    executorConcurrency: 1,
    // This test proves the schedule (two subtasks at the same time): their commands meet through
    // a directory both write, which the sandbox rightly hides from each. So, explicitly and for
    // this test only, commands run unsandboxed; test/security and the sandbox's own tests cover it.
    env: { MAESTRO_SANDBOX: 'none', MAESTRO_ALLOW_UNSANDBOXED: 'true' },
  });
  repo = realpathSync(e2e.repo);
  // The user is busy in their checkout: an uncommitted edit of the very file the subtasks
  // change, and an untracked file.
  writeFileSync(join(repo, 'src', 'add.js'), `${readFileSync(join(repo, 'src', 'add.js'), 'utf8')}// the user's own edit\n`);
  writeFileSync(join(repo, 'scratch.txt'), 'notes\n');
});

afterAll(async () => {
  await e2e?.stop();
  rmSync(meetDir, { recursive: true, force: true });
  rmSync(scriptDir, { recursive: true, force: true });
});

it('runs two subtasks on the same file one after the other, the second on top of the first', async () => {
  const before = checkoutState(repo);
  const watch = watchEvents(e2e);
  const { taskId, done } = await runTask(e2e, `Add double() and triple() to src/add.js. ${Tokens.sameGoal}`, 'concern-e2e-same-file');
  watch.stop();

  expect(done['status']).toBe('succeeded');
  const subtasks = done['subtasks'] as Array<Record<string, unknown>>;
  expect(subtasks.map((s) => [s['id'], s['status']])).toEqual([
    ['first', 'succeeded'],
    ['second', 'succeeded'],
  ]);
  // Orion derived the same file concern for both: that is why they conflict.
  expect(subtasks[0]?.['concerns']).toEqual(subtasks[1]?.['concerns']);

  // In the server's order: nothing of the second subtask (lock request or grant, agent step,
  // result) before the first subtask's work.finished.
  const isTask = (e: SeenEvent): boolean => e.payload['taskId'] === taskId;
  const ofSubtask = (e: SeenEvent, id: string): boolean =>
    (isTask(e) && e.payload['subtaskId'] === id) || (typeof e.payload['owner'] === 'string' && (e.payload['owner'] as string).endsWith(`:${id}`));
  const firstFinished = watch.seen.findIndex((e) => e.subject === Subjects.workFinished && isTask(e) && e.payload['subtaskId'] === 'first');
  const secondStarted = watch.seen.findIndex((e) => ofSubtask(e, 'second'));
  expect(firstFinished).toBeGreaterThanOrEqual(0);
  expect(secondStarted).toBeGreaterThan(firstFinished);
  // The watcher saw the second's steps and locks, and the payloads were the contract's.
  const secondEvents = watch.seen.filter((e) => ofSubtask(e, 'second'));
  expect(secondEvents.some((e) => e.subject === Subjects.workStep)).toBe(true);
  expect(secondEvents.some((e) => e.subject === Subjects.lockAcquired)).toBe(true);
  for (const e of watch.seen) {
    if (e.subject === Subjects.workStep) WorkStepEventSchema.parse(e.payload);
    if (e.subject === Subjects.workFinished) WorkFinishedEventSchema.parse(e.payload);
    if (e.subject === Subjects.lockAcquired || e.subject === Subjects.lockReleased) LockEventSchema.parse(e.payload);
    if (e.subject === Subjects.lockWaiting) LockWaitingEventSchema.parse(e.payload);
  }

  // The second agent's worktree started from the first one's merged work.
  const steps = await recordedSteps(e2e.gateway, taskId, ['first', 'second']);
  const read = toolStep(steps, 'second', 'fs.read(');
  expect(read.ok).toBe(true);
  expect(read.summary).toContain('export function double(n)');
  expect(read.summary).not.toContain("the user's own edit");
  expect(toolStep(steps, 'second', 'fs.edit(').ok).toBe(true);

  // Both commits on maestro/<taskId>, the second on top of the first; the file has both changes.
  const branch = `maestro/${taskId}`;
  expect(git(repo, 'log', '--format=%s', `${e2e.baseSha}..${branch}`).split('\n')).toEqual(['Add triple', 'Add double']);
  expect(git(repo, 'rev-parse', `${branch}^`)).toBe(subtasks[0]?.['commitSha']);
  expect(git(repo, 'rev-parse', branch)).toBe(subtasks[1]?.['commitSha']);
  const onBranch = git(repo, 'show', `${branch}:src/add.js`);
  expect(onBranch).toContain(DOUBLE.trim());
  expect(onBranch).toContain(TRIPLE.trim());
  expect(onBranch).not.toContain("the user's own edit");
  expect(done['delivery']).toMatchObject({ mode: 'branch', branch, sha: git(repo, 'rev-parse', branch), delivered: true });

  // The user's checkout is as it was; no worktree is left.
  expect(checkoutState(repo)).toEqual(before);
  expect(worktreeCount(repo)).toBe(1);
});

it('runs two subtasks on disjoint files at the same time, each in its own worktree', async () => {
  const before = checkoutState(repo);
  const watch = watchEvents(e2e);
  const { taskId, done } = await runTask(e2e, `Add left() and right() in modules of their own. ${Tokens.disjointGoal}`, 'concern-e2e-disjoint');
  watch.stop();

  expect(done['status']).toBe('succeeded');
  const subtasks = done['subtasks'] as Array<Record<string, unknown>>;
  expect(subtasks.map((s) => [s['id'], s['status']])).toEqual([
    ['left', 'succeeded'],
    ['right', 'succeeded'],
  ]);

  const steps = await recordedSteps(e2e.gateway, taskId, ['left', 'right']);
  const cwds = new Map<string, string>();
  for (const [me, other] of [
    ['left', 'right'],
    ['right', 'left'],
  ] as const) {
    // Met at the rendezvous: the other agent was working at the same time.
    const meet = toolStep(steps, me, `exec({"argv":["node","${meetScript}"`);
    expect(meet.summary).toContain(`met ${other} cwd=`);
    expect(meet.ok).toBe(true);
    const cwd = /cwd=(\S+)/.exec(meet.summary)?.[1] ?? '';
    expect(cwd.startsWith(repo)).toBe(false);
    cwds.set(me, cwd);
    // After the rendezvous the other's file exists, in its worktree: this one does not see it.
    const ls = toolStep(steps, me, 'exec({"argv":["ls","src"]');
    expect(ls.ok).toBe(true);
    expect(ls.summary).toContain(`${me}.js`);
    expect(ls.summary).not.toContain(`${other}.js`);
  }
  expect(cwds.get('left')).not.toBe(cwds.get('right'));

  // One executor each (one slot each), both results ok.
  const finished = watch.seen.filter((e) => e.subject === Subjects.workFinished && e.payload['taskId'] === taskId).map((e) => WorkFinishedEventSchema.parse(e.payload));
  expect(finished.map((e) => e.subtaskId).sort()).toEqual(['left', 'right']);
  expect(finished.every((e) => e.ok)).toBe(true);
  expect(new Set(finished.map((e) => e.executorId)).size).toBe(2);

  // Both commits are on the task branch, with both files.
  const branch = `maestro/${taskId}`;
  expect(git(repo, 'log', '--no-merges', '--format=%s', `${e2e.baseSha}..${branch}`).split('\n').sort()).toEqual(['Add left', 'Add right']);
  expect(git(repo, 'show', `${branch}:src/left.js`)).toContain("return 'left'");
  expect(git(repo, 'show', `${branch}:src/right.js`)).toContain("return 'right'");

  // The user's checkout is as it was; no worktree is left.
  expect(checkoutState(repo)).toEqual(before);
  expect(worktreeCount(repo)).toBe(1);
});
