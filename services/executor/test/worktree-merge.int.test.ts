/**
 * Worktrees and the merge queue against real git in temporary repositories: the subtask worker
 * (no bus: results and events are kept in memory) with scripted models (`ScriptedProvider`, whose
 * replies say they are scripted) and a recording write guard with fencing tokens.
 *
 * - each attempt works in its own worktree of the task branch; the user's working tree, index
 *   and branch stay byte-identical;
 * - worktrees are removed on every ending (success, escalation, cancel, hand-back), orphans at start;
 * - the fenced ref transaction refuses a lower token, and a lost lease stops a merge;
 * - two subtasks touching different files both merge; a conflicting merge goes back to the agent,
 *   which resolves it; past the merge attempts the subtask escalates with `merge_conflict`;
 * - work left uncommitted is never a success; a work item redelivered after its merge reports the
 *   commit without redoing it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import { HandBackError } from '@maestro/bus';
import type { Escalation, SubtaskWork } from '@maestro/contracts';
import { ScriptedProvider, parseScript, type Script } from '@maestro/llm';
import { createSilentLogger, KeyedMutex, OperationalError, UserError } from '@maestro/runtime';
import { EndedTasks } from '../src/domain/ended-tasks.js';
import { isEscalation, resultOf } from '../src/domain/escalation.js';
import { ExecutorStats } from '../src/domain/executor-stats.js';
import { FenceErrors } from '../src/domain/fence-token.js';
import type { HeldLock, WorkLease } from '../src/domain/ports.js';
import { EXECUTOR_MARKER_FILE } from '../src/domain/executor-directory.js';
import { MaestroRefs, toSafeSegment } from '../src/domain/worktree-layout.js';
import { commitFencedMerge, MergeErrors, MergeQueue, readFence } from '../src/work/merge-queue.js';
import { SubtaskWorker, type WorkspacePolicy } from '../src/work/subtask-worker.js';
import { WorktreeManager } from '../src/store/worktree-manager.js';
import { MemoryPublisher, MemoryResults } from './memory-work-sinks.js';
import { TEST_REPO_ROOTS } from './math-repo.js';
import { RecordingWriteGuard, TokenCounter } from './recording-write-guard.js';

jest.setTimeout(60_000);

const logger = createSilentLogger();
const TASK = 'task-wt';
const BRANCH = `maestro/${TASK}`;

/** A ChatModel over a ScriptedProvider; optionally holds its first answer until `open()` is called. */
class GatedScriptModel implements ChatModel {
  calls = 0;
  private readonly provider: ScriptedProvider;
  private gate: Promise<void> | undefined;
  private openGate: () => void = () => undefined;
  readonly waiting: Promise<void>;
  private markWaiting: () => void = () => undefined;

  constructor(script: Script, gated = false) {
    this.provider = new ScriptedProvider(script, 'worktree-merge-test');
    if (gated) this.gate = new Promise((resolve) => (this.openGate = resolve));
    this.waiting = new Promise((resolve) => (this.markWaiting = resolve));
  }

  open(): void {
    this.openGate();
  }

  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    this.calls++;
    this.markWaiting();
    if (this.gate !== undefined) await this.gate;
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }
}

/** A model that never answers until aborted, and says when it was first called. */
class HangingModel implements ChatModel {
  private markStarted: () => void = () => undefined;
  readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));
  complete(request: ChatModelRequest): Promise<ChatModelReply> {
    this.markStarted();
    return new Promise((_, reject) => request.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
  }
}

/** A work lease the test controls: granted at once (or refused), lost on demand. */
class FakeWorkLease implements WorkLease {
  private readonly controller = new AbortController();
  acquired = 0;
  released = 0;
  acquireError: Error | undefined;
  confirmFails = false;
  onAcquire: () => void = () => undefined;
  get lost(): AbortSignal {
    return this.controller.signal;
  }
  lose(): void {
    this.controller.abort(Object.assign(new Error('lease w is not held'), { code: 'LOCK_NOT_HELD' }));
  }
  async acquire(): Promise<HeldLock> {
    this.acquired++;
    if (this.acquireError !== undefined) throw this.acquireError;
    this.onAcquire();
    return { leaseId: 'w', concerns: ['resource:work/x'], fencingToken: 1 };
  }
  async confirm(): Promise<void> {
    if (this.confirmFails) throw new UserError('LOCK_NOT_HELD', 'lease w is not held', { reason: 'precondition' });
  }
  async release(): Promise<void> {
    this.released++;
  }
}

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

/** A repository with math.js and its tests (`node --test`), one commit on `main`. */
function makeRepo(): string {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), 'executor-wt-repo-')));
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 'test@example.invalid');
  git(repo, 'config', 'user.name', 'Worktree Test');
  writeFileSync(join(repo, 'math.js'), 'exports.add = (a, b) => a + b;\n');
  writeFileSync(join(repo, 'math.test.js'), "const test = require('node:test');\nconst assert = require('node:assert');\nconst m = require('./math.js');\ntest('add', () => assert.strictEqual(m.add(2, 3), 5));\n");
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  return repo;
}

/** Everything a user could notice about their checkout: status, HEAD, branch ref, index and file bytes. */
function snapshot(repo: string): Record<string, string> {
  const out: Record<string, string> = {
    status: git(repo, 'status', '--porcelain', '--untracked-files=all'),
    head: git(repo, 'rev-parse', 'HEAD'),
    symbolic: git(repo, 'symbolic-ref', 'HEAD'),
    branch: git(repo, 'rev-parse', 'refs/heads/main'),
    index: createHash('sha256').update(readFileSync(join(repo, '.git', 'index'))).digest('hex'),
  };
  for (const name of readdirSync(repo)) {
    if (name === '.git' || !statSync(join(repo, name)).isFile()) continue;
    out[`file:${name}`] = createHash('sha256').update(readFileSync(join(repo, name))).digest('hex');
  }
  return out;
}

function worktreeCount(repo: string): number {
  return (git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm) ?? []).length;
}

function workFor(repo: string, subtaskId: string, overrides: Partial<SubtaskWork> = {}): SubtaskWork {
  return {
    workId: `${subtaskId}:1`,
    taskId: TASK,
    runId: 'run-wt',
    subtaskId,
    attempt: 1,
    goal: 'Grow the calculator',
    title: `Subtask ${subtaskId}`,
    instructions: 'See the title.',
    files: [],
    repoPath: repo,
    testCommand: ['node', '--test'],
    project: 'calculator',
    ...overrides,
  };
}

/** A script rule: write `files`, commit them, say done. */
function writeAndCommit(name: string, title: string, files: Record<string, string>, message: string) {
  return {
    name,
    when: { intent: 'code' as const, contains: title },
    turns: [
      { toolCalls: Object.entries(files).map(([path, content]) => ({ name: 'fs.write', arguments: { path, content } })) },
      { toolCalls: [{ name: 'git.commit', arguments: { message } }] },
      { content: `${message}: done.` },
    ],
  };
}

describe('subtask worktrees and the merge queue (real git)', () => {
  let repo: string;
  let worktreeRoot: string;
  let results: MemoryResults;
  let publisher: MemoryPublisher;
  let tokens: TokenCounter;
  let guards: RecordingWriteGuard[];
  let endedTasks: EndedTasks;

  function worker(
    model: ChatModel | ((work: SubtaskWork) => ChatModel),
    policy: WorkspacePolicy = {},
    executorId = 'exec-wt',
    loseLeases = false,
    workLease?: WorkLease,
  ): SubtaskWorker {
    return new SubtaskWorker({
      ...(workLease !== undefined ? { createWorkLease: () => workLease } : {}),
      executorId,
      results,
      publisher,
      budget: { maxSteps: 12 },
      repoRoots: TEST_REPO_ROOTS,
      stats: new ExecutorStats(),
      logger,
      endedTasks,
      workspace: { worktreeRoot, ...policy },
      createModel: (work) => (typeof model === 'function' ? model(work) : model),
      createWriteGuard: () => {
        const guard = new RecordingWriteGuard(tokens);
        guard.loseLeases = loseLeases;
        guards.push(guard);
        return guard;
      },
    });
  }

  const noDelivery = { working: () => undefined };

  beforeEach(() => {
    repo = makeRepo();
    worktreeRoot = realpathSync(mkdtempSync(join(tmpdir(), 'executor-wt-root-')));
    results = new MemoryResults();
    publisher = new MemoryPublisher();
    tokens = new TokenCounter();
    guards = [];
    endedTasks = new EndedTasks();
  });

  afterEach(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreeRoot, { recursive: true, force: true });
  });

  it("works on the task branch in a worktree of its own, leaving the user's checkout byte-identical", async () => {
    // The user is in the middle of something: a staged change, an unstaged one, an untracked file.
    writeFileSync(join(repo, 'math.js'), 'exports.add = (a, b) => a + b; // staged\n');
    git(repo, 'add', 'math.js');
    writeFileSync(join(repo, 'math.js'), 'exports.add = (a, b) => a + b; // staged, then edited\n');
    writeFileSync(join(repo, 'scratch.txt'), 'notes\n');
    const before = snapshot(repo);

    const script = parseScript({
      rules: [
        {
          name: 'sub',
          when: { intent: 'code', contains: 'Add subtract' },
          turns: [
            // The agent looks around: the user's scratch file and edits are not in its worktree.
            { toolCalls: [{ name: 'exec', arguments: { argv: ['ls'] } }] },
            { toolCalls: [{ name: 'fs.write', arguments: { path: 'sub.js', content: 'exports.sub = (a, b) => a - b;\n' } }] },
            { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add subtract' } }] },
            { content: 'Added subtract.' },
          ],
        },
      ],
    });
    const work = workFor(repo, 's1', { title: 'Add subtract', concerns: [`file:${repo}/sub.js`] });
    const outcome = await worker(new GatedScriptModel(script)).handle(work, noDelivery);

    const result = resultOf(outcome);
    const tip = git(repo, 'rev-parse', BRANCH);
    expect(result).toMatchObject({ ok: true, commitSha: tip, merged: { branch: BRANCH, sha: tip }, filesChanged: ['sub.js'] });
    expect(git(repo, 'log', '--format=%s', BRANCH)).toBe('Add subtract\ninitial');
    expect(git(repo, 'show', `${BRANCH}:sub.js`)).toBe('exports.sub = (a, b) => a - b;');
    // The branch was created from the user's HEAD commit, and the user's checkout is untouched.
    expect(git(repo, 'rev-parse', `${BRANCH}~1`)).toBe(before['head']);
    expect(snapshot(repo)).toEqual(before);
    expect(existsSync(join(repo, 'sub.js'))).toBe(false);

    // The worktree was under this executor's directory, and is gone.
    expect(result.worktree).toBe(join(worktreeRoot, 'exec-wt', 'task-wt--s1--a1'));
    expect(existsSync(result.worktree!)).toBe(false);
    expect(worktreeCount(repo)).toBe(1);

    // The agent saw only the committed tree: no scratch.txt there.
    const ls = publisher.steps.find((s) => s.tool === 'exec');
    expect(ls?.summary).toContain('math.js');
    expect(ls?.summary).not.toContain('scratch.txt');

    // Locks: the declared concern as one lease before the agent, its write by the repository's
    // name, and the repository's git index for the merge, by a fresh lease.
    const [guard] = guards;
    expect(guard?.holds.map((h) => h.concerns)).toEqual([[`file:${repo}/sub.js`], [`git-index:${repo}`]]);
    expect(guard?.concerns).toEqual([`file:${repo}/sub.js`, `file:${repo}/sub.js`, `git-index:${repo}`]);
    expect(guard?.confirmed).toBe(1);
    expect(guard?.released).toBe(1);
    const lockSteps = publisher.steps.filter((s) => s.tool === 'locks' || s.tool === 'merge').map((s) => s.summary);
    expect(lockSteps[0]).toMatch(/^waiting up to 60000 ms for the declared concerns file:/);
    expect(lockSteps.at(-1)).toBe(`merged into ${BRANCH} at ${tip}`);
    // One numbering for worker and agent steps, without gaps or repeats.
    expect(publisher.steps.map((s) => s.step)).toEqual(publisher.steps.map((_, i) => i));
    // The fence records the merge's token.
    expect((await readFence(repo)).token).toBe(guard?.holds[1]?.fencingToken);
  });

  it("locks its worktrees against other people's prunes and never prunes anyone else's", async () => {
    // A worktree whose directory this host cannot see (another host's mount, say): a global
    // `git worktree prune` here would drop its metadata.
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'executor-wt-elsewhere-')), 'review');
    git(repo, 'worktree', 'add', '-q', '--detach', elsewhere);
    rmSync(elsewhere, { recursive: true, force: true });
    const manager = new WorktreeManager({ root: worktreeRoot, executorId: 'exec-wt', logger, mutex: new KeyedMutex() });

    const worktree = await manager.open(workFor(repo, 's1'), logger);
    const listed = git(repo, 'worktree', 'list', '--porcelain').split('\n\n');
    expect(listed.find((entry) => entry.startsWith(`worktree ${worktree.path}`))).toContain('locked');
    await manager.close(worktree, logger);

    expect(existsSync(worktree.path)).toBe(false);
    const after = git(repo, 'worktree', 'list', '--porcelain');
    expect(after).not.toContain(worktree.path);
    // The other worktree's metadata is still there: nothing of ours pruned it.
    expect(after).toContain(`worktree ${realpathSync(join(elsewhere, '..'))}/review`);
  });

  it('merges two subtasks touching different files, each reporting only its own files', async () => {
    const script = parseScript({
      rules: [
        writeAndCommit('a', 'Create a.js', { 'a.js': 'exports.a = 1;\n' }, 'Add a'),
        writeAndCommit('b', 'Create b.js', { 'b.js': 'exports.b = 2;\n' }, 'Add b'),
      ],
    });
    const w = worker(() => new GatedScriptModel(script), {}, 'exec-two');
    const [a, b] = await Promise.all([
      w.handle(workFor(repo, 'sa', { title: 'Create a.js' }), noDelivery),
      w.handle(workFor(repo, 'sb', { title: 'Create b.js' }), noDelivery),
    ]);
    expect(resultOf(a)).toMatchObject({ ok: true, filesChanged: ['a.js'] });
    expect(resultOf(b)).toMatchObject({ ok: true, filesChanged: ['b.js'] });
    const tip = git(repo, 'rev-parse', BRANCH);
    expect([resultOf(a).commitSha, resultOf(b).commitSha]).toContain(tip);
    expect(git(repo, 'ls-tree', '--name-only', BRANCH).split('\n').sort()).toEqual(['a.js', 'b.js', 'math.js', 'math.test.js']);
    expect(git(repo, 'log', '--format=%s', BRANCH).split('\n')).toEqual(expect.arrayContaining(['Add a', 'Add b', 'initial']));
    expect(git(repo, 'rev-list', '--count', 'main')).toBe('1');
    expect(worktreeCount(repo)).toBe(1);
  });

  it('gives a conflicting merge back to the agent, which resolves it, runs the tests and commits', async () => {
    const resolved = 'exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\nexports.mul = (a, b) => a * b;\n';
    const script = parseScript({
      rules: [
        {
          name: 'resolve',
          when: { intent: 'code', contains: 'Merge conflict' },
          turns: [
            { toolCalls: [{ name: 'fs.write', arguments: { path: 'math.js', content: resolved } }] },
            { toolCalls: [{ name: 'git.commit', arguments: { message: 'Merge the task branch, keeping sub and mul' } }] },
            { content: 'Resolved: both functions kept.' },
          ],
        },
        writeAndCommit('sub', 'Add sub', { 'math.js': 'exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\n' }, 'Add sub'),
        writeAndCommit('mul', 'Add mul', { 'math.js': 'exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n' }, 'Add mul'),
      ],
    });
    // mul's worktree is made from the first tip; its agent waits until sub has merged.
    const mulModel = new GatedScriptModel(script, true);
    const w = worker((work) => (work.subtaskId === 'mul' ? mulModel : new GatedScriptModel(script)));
    const mul = w.handle(workFor(repo, 'mul', { title: 'Add mul' }), noDelivery);
    await mulModel.waiting;
    const sub = await w.handle(workFor(repo, 'sub', { title: 'Add sub' }), noDelivery);
    expect(resultOf(sub)).toMatchObject({ ok: true });
    mulModel.open();
    const outcome = await mul;

    const result = resultOf(outcome);
    const tip = git(repo, 'rev-parse', BRANCH);
    expect(result).toMatchObject({ ok: true, commitSha: tip, merged: { branch: BRANCH, sha: tip }, filesChanged: ['math.js'] });
    expect(git(repo, 'show', `${BRANCH}:math.js`)).toBe(resolved.trimEnd());
    // The resolution is a merge of the task branch: sub's commit is in the history, not overwritten.
    expect(git(repo, 'merge-base', '--is-ancestor', resultOf(sub).commitSha!, tip)).toBe('');
    expect(git(repo, 'log', '-1', '--format=%s', BRANCH)).toBe('Merge the task branch, keeping sub and mul');
    const mergeSteps = publisher.steps.filter((s) => s.subtaskId === 'mul' && s.tool === 'merge').map((s) => s.summary);
    expect(mergeSteps).toEqual([`merge conflict (attempt 1 of 2): math.js`, `merged into ${BRANCH} at ${tip}`]);
    expect(worktreeCount(repo)).toBe(1);
    // Two merges of mul, each under a git-index lease of its own.
    expect(guards.find((g) => g.holds.length === 2)?.holds.map((h) => h.concerns[0])).toEqual([`git-index:${repo}`, `git-index:${repo}`]);
  });

  it('escalates with merge_conflict once the merge attempts are used up, never force-merging', async () => {
    const script = parseScript({
      rules: [
        writeAndCommit('one', 'Write one', { 'math.js': 'exports.one = 1;\n', 'math.test.js': '' }, 'One'),
        writeAndCommit('two', 'Write two', { 'math.js': 'exports.two = 2;\n', 'math.test.js': '' }, 'Two'),
      ],
    });
    const twoModel = new GatedScriptModel(script, true);
    const w = worker((work) => (work.subtaskId === 'two' ? twoModel : new GatedScriptModel(script)), { mergeAttempts: 1 });
    const two = w.handle(workFor(repo, 'two', { title: 'Write two' }), noDelivery);
    await twoModel.waiting;
    expect(resultOf(await w.handle(workFor(repo, 'one', { title: 'Write one' }), noDelivery)).ok).toBe(true);
    const tipAfterOne = git(repo, 'rev-parse', BRANCH);
    twoModel.open();
    const outcome = await two;

    expect(isEscalation(outcome)).toBe(true);
    const result = resultOf(outcome);
    expect(result.ok).toBe(false);
    expect(result.failureReason).toMatch(/^merge_conflict: the subtask's commit conflicts with the task branch maestro\/task-wt in math\.js/);
    expect(git(repo, 'rev-parse', BRANCH)).toBe(tipAfterOne);
    expect(worktreeCount(repo)).toBe(1);
    // Its work is kept for the next attempt.
    expect(git(repo, 'show', `${MaestroRefs.carried(TASK, 'two')}:math.js`)).toBe('exports.two = 2;');
  });

  it('never reports success for work left uncommitted', async () => {
    const script = parseScript({
      rules: [
        {
          name: 'lazy',
          when: { intent: 'code', contains: 'Add notes' },
          turns: [{ toolCalls: [{ name: 'fs.write', arguments: { path: 'notes.md', content: '# notes\n' } }] }, { content: 'Done (forgot to commit).' }],
        },
      ],
    });
    const outcome = await worker(new GatedScriptModel(script)).handle(workFor(repo, 'lazy', { title: 'Add notes' }), noDelivery);
    const result = resultOf(outcome);
    expect(result.ok).toBe(false);
    expect(result.failureReason).toBe('not_committed: files left uncommitted: ?? notes.md');
    expect(result.filesChanged).toEqual(['notes.md']);
    expect(git(repo, 'rev-parse', BRANCH)).toBe(git(repo, 'rev-parse', 'main'));
    expect(worktreeCount(repo)).toBe(1);
  });

  it('reports the commit of work redelivered after its merge, without redoing it', async () => {
    const script = parseScript({ rules: [writeAndCommit('a', 'Create a.js', { 'a.js': 'exports.a = 1;\n' }, 'Add a')] });
    const model = new GatedScriptModel(script);
    const w = worker(model);
    const work = workFor(repo, 'sa', { title: 'Create a.js' });
    const first = resultOf(await w.handle(work, noDelivery));
    // The executor died after the merge, before the outcome was stored.
    results.byWorkId.clear();
    const calls = model.calls;
    const again = resultOf(await w.handle(work, noDelivery));
    expect(model.calls).toBe(calls);
    expect(again).toMatchObject({ ok: true, commitSha: first.commitSha, merged: first.merged, filesChanged: ['a.js'], steps: 0 });
    expect(again.summary).toContain('by an earlier delivery');
    expect(git(repo, 'rev-list', '--count', BRANCH)).toBe('2');
  });

  it('removes the worktree on escalation, cancel and hand-back, and carries unfinished work to the next attempt', async () => {
    // Escalation: the agent declares done twice over red tests.
    const red = parseScript({
      rules: [
        {
          name: 'red',
          when: { intent: 'code', contains: 'Break it' },
          turns: [
            { toolCalls: [{ name: 'fs.write', arguments: { path: 'math.test.js', content: "require('node:test')('red', () => { throw new Error('red'); });\n" } }] },
            { content: 'Done.' },
            { content: 'Done, really.' },
          ],
        },
      ],
    });
    const escalated = await worker(new GatedScriptModel(red)).handle(workFor(repo, 'red', { title: 'Break it' }), noDelivery);
    expect(isEscalation(escalated)).toBe(true);
    expect(existsSync(resultOf(escalated).worktree!)).toBe(false);
    expect(git(repo, 'show', `${MaestroRefs.carried(TASK, 'red')}:math.test.js`)).toContain("throw new Error('red')");

    // The next attempt of that subtask starts with the carried work, uncommitted.
    const look = parseScript({
      rules: [{ name: 'look', when: { intent: 'code', contains: 'Break it' }, turns: [{ toolCalls: [{ name: 'git.status', arguments: {} }] }, { content: 'Looked.' }] }],
    });
    await worker(new GatedScriptModel(look)).handle(workFor(repo, 'red', { title: 'Break it', workId: 'red:2', attempt: 2 }), noDelivery);
    expect(publisher.steps.find((s) => s.attempt === 2 && s.tool === 'git.status')?.summary).toContain('modified: math.test.js');

    // Cancel: the task ends while the model is thinking.
    const hanging = new HangingModel();
    const cancelled = worker(hanging).handle(workFor(repo, 'cx', { title: 'Hang' }), noDelivery);
    await hanging.started;
    expect(readdirSync(join(worktreeRoot, 'exec-wt'))).toContain('task-wt--cx--a1');
    endedTasks.observe(TASK, 'cancelled');
    expect(resultOf(await cancelled).failureReason).toBe(`task ${TASK} ended (cancelled) while this subtask ran; stopped`);
    expect(readdirSync(join(worktreeRoot, 'exec-wt'))).not.toContain('task-wt--cx--a1');

    // Hand-back: the executor shuts down while the model is thinking.
    const other = 'task-wt2';
    const shutdown = new AbortController();
    const hanging2 = new HangingModel();
    const handedBack = worker(hanging2).handle(workFor(repo, 'hb', { taskId: other, title: 'Hang' }), { working: () => undefined, signal: shutdown.signal });
    await hanging2.started;
    shutdown.abort(new Error('shutting down'));
    await expect(handedBack).rejects.toBeInstanceOf(HandBackError);
    expect(readdirSync(join(worktreeRoot, 'exec-wt'))).toEqual([]);
    expect(worktreeCount(repo)).toBe(1);
  });

  it('removes orphaned worktrees of this executor at start, even when their repository is gone', async () => {
    const dir = join(worktreeRoot, 'exec-orphans');
    mkdirSync(dir, { recursive: true });
    git(repo, 'worktree', 'add', '--detach', '-q', join(dir, 'task-x--s1--a1'), 'HEAD');
    const gone = makeRepo();
    git(gone, 'worktree', 'add', '--detach', '-q', join(dir, 'task-y--s1--a1'), 'HEAD');
    rmSync(gone, { recursive: true, force: true });
    expect(worktreeCount(repo)).toBe(2);

    expect(await worker(new HangingModel(), {}, 'exec-orphans').removeOrphanedWorktrees()).toBe(2);
    // Only the marker saying who owns the directory now is left.
    expect(readdirSync(dir)).toEqual([EXECUTOR_MARKER_FILE]);
    expect(JSON.parse(readFileSync(join(dir, EXECUTOR_MARKER_FILE), 'utf8'))).toMatchObject({ executorId: 'exec-orphans', hostname: hostname(), pid: process.pid });
    expect(worktreeCount(repo)).toBe(1);
    // Another executor's worktrees are not touched.
    expect(await worker(new HangingModel(), {}, 'exec-other').removeOrphanedWorktrees()).toBe(0);
  });

  it('removes the worktrees of dead default-id executors of this host, and only theirs', async () => {
    // A process that has exited: its pid is dead.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const deadDir = join(worktreeRoot, toSafeSegment(`${hostname()}-${deadPid}`));
    mkdirSync(deadDir, { recursive: true });
    git(repo, 'worktree', 'add', '--detach', '-q', join(deadDir, 'task-d--s1--a1'), 'HEAD');
    // A live process (this one) whose marker records another start time: its pid was reused.
    const reusedDir = join(worktreeRoot, toSafeSegment(`${hostname()}-${process.pid}`));
    mkdirSync(reusedDir, { recursive: true });
    git(repo, 'worktree', 'add', '--detach', '-q', join(reusedDir, 'task-r--s1--a1'), 'HEAD');
    writeFileSync(join(reusedDir, EXECUTOR_MARKER_FILE), JSON.stringify({ executorId: 'old', hostname: hostname(), pid: process.pid, startTime: '1' }));
    // A live executor: the parent of this process, with no marker (a live pid counts as its owner).
    const liveDir = join(worktreeRoot, toSafeSegment(`${hostname()}-${process.ppid}`));
    mkdirSync(liveDir, { recursive: true });
    git(repo, 'worktree', 'add', '--detach', '-q', join(liveDir, 'task-l--s1--a1'), 'HEAD');
    // Another host's executor, and an explicitly named one: never this host's to judge.
    const otherHost = join(worktreeRoot, toSafeSegment(`not-${hostname()}-${deadPid}`));
    mkdirSync(join(otherHost, 'task-o--s1--a1'), { recursive: true });
    expect(worktreeCount(repo)).toBe(4);

    expect(await worker(new HangingModel(), {}, 'exec-scan').removeOrphanedWorktrees()).toBe(2);

    expect(existsSync(deadDir)).toBe(false);
    expect(existsSync(reusedDir)).toBe(false);
    expect(readdirSync(liveDir)).toEqual(['task-l--s1--a1']);
    expect(readdirSync(otherHost)).toEqual(['task-o--s1--a1']);
    // Removed from git too (worktree remove + prune), not only from the disk.
    expect(worktreeCount(repo)).toBe(2);
  });

  it('does not move the task branch when the lock-manager says the merge lease is lost', async () => {
    const script = parseScript({ rules: [writeAndCommit('a', 'Create a.js', { 'a.js': 'exports.a = 1;\n' }, 'Add a')] });
    const outcome = await worker(new GatedScriptModel(script), {}, 'exec-wt', true).handle(workFor(repo, 'sa', { title: 'Create a.js' }), noDelivery);
    const result = resultOf(outcome);
    expect(result.ok).toBe(false);
    expect(result.failureReason).toContain('lease is not held');
    expect(git(repo, 'rev-parse', BRANCH)).toBe(git(repo, 'rev-parse', 'main'));
    expect(() => git(repo, 'rev-parse', '-q', '--verify', MaestroRefs.gitIndexFence)).toThrow();
    expect(worktreeCount(repo)).toBe(1);
  });

  it('stops an attempt whose work lease is lost: no merge, no outcome, nothing carried, handed back', async () => {
    const lease = new FakeWorkLease();
    const hanging = new HangingModel();
    const handled = worker(hanging, {}, 'exec-wt', false, lease).handle(workFor(repo, 'paused', { title: 'Hang' }), noDelivery);
    await hanging.started;
    expect(lease.acquired).toBe(1);
    // The executor was paused past the TTL; another executor took the work over.
    lease.lose();
    const error = await handled.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(HandBackError);
    expect((error as Error).message).toContain('work lease was lost');
    expect(results.byWorkId.size).toBe(0);
    expect(publisher.results).toEqual([]);
    expect(publisher.escalations).toEqual([]);
    expect(git(repo, 'rev-parse', BRANCH)).toBe(git(repo, 'rev-parse', 'main'));
    expect(() => git(repo, 'rev-parse', '-q', '--verify', MaestroRefs.carried(TASK, 'paused'))).toThrow();
    expect(worktreeCount(repo)).toBe(1);
    expect(lease.released).toBe(1);
  });

  it('never merges when the work lease is found gone just before the merge', async () => {
    const lease = new FakeWorkLease();
    lease.confirmFails = true;
    const script = parseScript({ rules: [writeAndCommit('a', 'Create a.js', { 'a.js': 'exports.a = 1;\n' }, 'Add a')] });
    await expect(worker(new GatedScriptModel(script), {}, 'exec-wt', false, lease).handle(workFor(repo, 'sa', { title: 'Create a.js' }), noDelivery)).rejects.toBeInstanceOf(HandBackError);
    expect(git(repo, 'rev-parse', BRANCH)).toBe(git(repo, 'rev-parse', 'main'));
    expect(results.byWorkId.size).toBe(0);
  });

  it('hands a redelivery back without running it while another attempt holds the lease, and re-publishes what that attempt stored', async () => {
    const held = new FakeWorkLease();
    held.acquireError = new OperationalError('LOCK_NOT_ACQUIRED', 'could not lock resource:work/… within 30000 ms', { details: { code: 'LOCK_CONFLICT' } });
    const model = new HangingModel();
    let called = false;
    void model.started.then(() => (called = true));
    await expect(worker(model, {}, 'exec-wt', false, held).handle(workFor(repo, 'busy'), noDelivery)).rejects.toBeInstanceOf(HandBackError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(called).toBe(false);

    // The lease came free because its holder finished (and stored its outcome) meanwhile.
    const freed = new FakeWorkLease();
    const done = { ...workFor(repo, 'busy') };
    freed.onAcquire = () => results.byWorkId.set(done.workId, { workId: done.workId, taskId: TASK, runId: 'run-wt', subtaskId: 'busy', attempt: 1, ok: true, summary: 'done elsewhere', filesChanged: [], executorId: 'exec-b', steps: 3, finishedAt: new Date(0).toISOString() });
    const outcome = await worker(new HangingModel(), {}, 'exec-wt', false, freed).handle(done, noDelivery);
    expect(resultOf(outcome)).toMatchObject({ ok: true, summary: 'done elsewhere', executorId: 'exec-b' });
    expect(publisher.results.map((r) => r.summary)).toEqual(['done elsewhere']);
    expect(worktreeCount(repo)).toBe(1);
  });

  it('refuses to work on the branch the user has checked out', async () => {
    const outcome = await worker(new HangingModel()).handle(workFor(repo, 's1', { taskBranch: 'main' }), noDelivery);
    expect(resultOf(outcome).failureReason).toMatch(/^worktree not created \(TASK_BRANCH_CHECKED_OUT\): taskBranch: main is the branch checked out/);
  });
});

describe('the fenced ref transaction (real git)', () => {
  let repo: string;
  let base: string;
  let next: string;

  beforeEach(() => {
    repo = makeRepo();
    base = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'update-ref', `refs/heads/${BRANCH}`, base, '');
    writeFileSync(join(repo, 'x.js'), 'x\n');
    git(repo, 'add', 'x.js');
    next = git(repo, 'commit-tree', git(repo, 'write-tree'), '-p', base, '-m', 'x');
    git(repo, 'reset', '-q');
    rmSync(join(repo, 'x.js'));
  });

  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('moves the branch and records the token; refuses a lower token with FENCED, changing nothing', async () => {
    await commitFencedMerge(repo, { branch: BRANCH, sha: next, previous: base, fencingToken: 7 });
    expect(git(repo, 'rev-parse', BRANCH)).toBe(next);
    expect(git(repo, 'cat-file', 'blob', MaestroRefs.gitIndexFence)).toBe('7');

    // A writer whose lease (token 5) expired and was granted again (token 7) comes back late.
    const late = commitFencedMerge(repo, { branch: BRANCH, sha: base, previous: next, fencingToken: 5 });
    await expect(late).rejects.toBeInstanceOf(UserError);
    await expect(late).rejects.toMatchObject({ code: FenceErrors.fenced });
    expect(git(repo, 'rev-parse', BRANCH)).toBe(next);
    expect(git(repo, 'cat-file', 'blob', MaestroRefs.gitIndexFence)).toBe('7');

    // A newer lease moves it on.
    await commitFencedMerge(repo, { branch: BRANCH, sha: base, previous: next, fencingToken: 9 });
    expect(git(repo, 'rev-parse', BRANCH)).toBe(base);
    expect((await readFence(repo)).token).toBe(9);
  });

  it('writes a merged record once: a second transaction for the same record changes nothing', async () => {
    const record = { ref: MaestroRefs.merged(TASK, 's1:1'), content: 'first' };
    await commitFencedMerge(repo, { branch: BRANCH, sha: next, previous: base, fencingToken: 3, records: [record] });
    const again = commitFencedMerge(repo, { branch: BRANCH, sha: base, previous: next, fencingToken: 4, records: [{ ...record, content: 'second' }] });
    await expect(again).rejects.toThrow();
    expect(git(repo, 'rev-parse', BRANCH)).toBe(next);
    expect(git(repo, 'cat-file', 'blob', record.ref)).toBe('first');
    expect((await readFence(repo)).token).toBe(3);
  });

  it('refuses to move a task branch that is checked out somewhere, and stops a merge whose attempt ended while it waited', async () => {
    const mutex = new KeyedMutex();
    const manager = new WorktreeManager({ root: realpathSync(mkdtempSync(join(tmpdir(), 'executor-wt-q-'))), executorId: 'exec-q', logger, mutex });
    const queue = new MergeQueue({ mutex, lockWaitMs: 1_000 });
    const work = workFor(repo, 's1');
    const worktree = await manager.open(work, logger);
    try {
      writeFileSync(join(worktree.path, 'y.js'), 'y\n');
      git(worktree.path, 'add', 'y.js');
      git(worktree.path, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'y');

      // The user looks at the task branch in a worktree of their own.
      const review = join(realpathSync(mkdtempSync(join(tmpdir(), 'executor-wt-review-'))), 'review');
      git(repo, 'worktree', 'add', '-q', review, BRANCH);
      const refused = queue.merge(worktree, work, new RecordingWriteGuard(), logger);
      await expect(refused).rejects.toMatchObject({ code: MergeErrors.branchCheckedOut });
      await expect(refused).rejects.toThrow(review);
      expect(git(repo, 'rev-parse', BRANCH)).toBe(base);
      git(repo, 'worktree', 'remove', '--force', review);

      // Stopped while waiting for the git index: nothing moves.
      const stopped = new AbortController();
      stopped.abort();
      expect(await queue.merge(worktree, work, new RecordingWriteGuard(), logger, stopped.signal)).toEqual({ kind: 'stopped' });
      expect(git(repo, 'rev-parse', BRANCH)).toBe(base);

      // Otherwise it merges, and a second merge of the same work item reports the first.
      const merged = await queue.merge(worktree, work, new RecordingWriteGuard(), logger);
      expect(merged).toMatchObject({ kind: 'merged', previous: base });
      expect(await queue.merge(worktree, work, new RecordingWriteGuard(), logger)).toEqual(merged);
    } finally {
      await manager.close(worktree, logger);
    }
  });

  it('fails without a change when the branch moved since the merge was made', async () => {
    const moved = commitFencedMerge(repo, { branch: BRANCH, sha: next, previous: next, fencingToken: 3 });
    await expect(moved).rejects.toMatchObject({ code: 'TASK_BRANCH_MOVED' });
    expect(git(repo, 'rev-parse', BRANCH)).toBe(base);
    expect((await readFence(repo)).token).toBeUndefined();
  });
});
