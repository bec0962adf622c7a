/**
 * Untracked dependencies linked into subtask worktrees, against real git in temporary
 * repositories: a repository whose test requires `node_modules/dep` (installed in the user's
 * checkout, ignored by its .gitignore) passes its tests in the worktree with the link and fails
 * without it; the link is never committed, never replaces a tracked path, is kept out of git by
 * `info/exclude` when the repository's own ignore rules would not ignore a symlink, and removing
 * the worktree leaves the checkout's dependencies in place.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import { ScriptedProvider, parseScript, type Script } from '@maestro/llm';
import { createSilentLogger } from '@maestro/runtime';
import { resultOf } from '../src/domain/escalation.js';
import { ExecutorStats } from '../src/domain/executor-stats.js';
import { linkUntrackedPaths } from '../src/store/worktree-links.js';
import { SubtaskWorker } from '../src/work/subtask-worker.js';
import { MemoryPublisher, MemoryResults } from './memory-work-sinks.js';
import { TEST_REPO_ROOTS } from './math-repo.js';
import { RecordingWriteGuard } from './recording-write-guard.js';

jest.setTimeout(60_000);

const logger = createSilentLogger();
const TASK = 'task-links';
const BRANCH = `maestro/${TASK}`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** A repository whose test needs `dep` from node_modules (installed, ignored as `node_modules/`). */
function makeRepo(ignore = 'node_modules/\n'): string {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), 'executor-links-repo-')));
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 'test@example.invalid');
  git(repo, 'config', 'user.name', 'Links Test');
  writeFileSync(join(repo, '.gitignore'), ignore);
  writeFileSync(join(repo, 'math.js'), "const dep = require('dep');\nexports.add = (a, b) => dep.plus(a, b);\n");
  writeFileSync(join(repo, 'math.test.js'), "const test = require('node:test');\nconst assert = require('node:assert');\nconst m = require('./math.js');\ntest('add', () => assert.strictEqual(m.add(2, 3), 5));\n");
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  mkdirSync(join(repo, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(repo, 'node_modules', 'dep', 'index.js'), 'exports.plus = (a, b) => a + b;\n');
  return repo;
}

class ScriptModel implements ChatModel {
  private readonly provider: ScriptedProvider;
  constructor(script: Script) {
    this.provider = new ScriptedProvider(script, 'worktree-links-test');
  }
  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }
}

/** The agent adds a file, commits everything it sees (`git add -A` semantics), and says done; the test gate runs `node --test`. */
const script = parseScript({
  rules: [
    {
      name: 'twice',
      when: { intent: 'code', contains: 'Add twice' },
      turns: [
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'twice.js', content: "exports.twice = (a) => require('./math.js').add(a, a);\n" } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add twice' } }] },
        { content: 'Added twice; tests pass.' },
        { content: 'Done.' },
      ],
    },
  ],
});

describe('untracked dependencies linked into worktrees (real git)', () => {
  let repo: string;
  let worktreeRoot: string;

  beforeEach(() => {
    repo = makeRepo();
    worktreeRoot = realpathSync(mkdtempSync(join(tmpdir(), 'executor-links-root-')));
  });

  afterEach(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreeRoot, { recursive: true, force: true });
  });

  function worker(links: readonly string[], publisher = new MemoryPublisher()): SubtaskWorker {
    return new SubtaskWorker({
      executorId: 'exec-links',
      results: new MemoryResults(),
      publisher,
      budget: { maxSteps: 12 },
      repoRoots: TEST_REPO_ROOTS,
      stats: new ExecutorStats(),
      logger,
      workspace: { worktreeRoot, worktreeLinks: links },
      createModel: () => new ScriptModel(script),
      createWriteGuard: () => new RecordingWriteGuard(),
    });
  }

  const work = () => ({
    workId: 's1:1',
    taskId: TASK,
    runId: 'run-links',
    subtaskId: 's1',
    attempt: 1,
    goal: 'Grow the calculator',
    title: 'Add twice',
    instructions: 'See the title.',
    files: [],
    repoPath: repo,
    testCommand: ['node', '--test'],
    project: 'calculator',
  });

  it("runs the repository's tests with the checkout's node_modules, never committing the link", async () => {
    const publisher = new MemoryPublisher();
    const outcome = await worker(['node_modules'], publisher).handle(work(), { working: () => undefined });
    const result = resultOf(outcome);
    expect(result).toMatchObject({ ok: true, filesChanged: ['twice.js'] });
    expect(publisher.steps.some((s) => s.tool === 'tests' && s.ok)).toBe(true);
    // Nothing of node_modules reached the task branch.
    expect(git(repo, 'ls-tree', '-r', '--name-only', BRANCH).split('\n').sort()).toEqual(['.gitignore', 'math.js', 'math.test.js', 'twice.js']);
    // The worktree is gone; the dependencies it linked to are not.
    expect(existsSync(result.worktree!)).toBe(false);
    expect(readFileSync(join(repo, 'node_modules', 'dep', 'index.js'), 'utf8')).toContain('plus');
    // The user's checkout shows nothing new.
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('fails the same work without the link (the test needs the dependency)', async () => {
    const publisher = new MemoryPublisher();
    const outcome = await worker([], publisher).handle(work(), { working: () => undefined });
    expect(resultOf(outcome).ok).toBe(false);
    expect(publisher.steps.some((s) => s.tool === 'tests' && !s.ok)).toBe(true);
  });

  it('links only what exists and is untracked, excluding a link the repository would not ignore', async () => {
    // No .gitignore entry for node_modules this time, a tracked vendor/ and a missing cache/.
    rmSync(repo, { recursive: true, force: true });
    repo = makeRepo('');
    mkdirSync(join(repo, 'vendor'));
    writeFileSync(join(repo, 'vendor', 'lib.js'), 'tracked\n');
    git(repo, 'add', 'vendor/lib.js');
    git(repo, 'commit', '-q', '-m', 'vendor');
    mkdirSync(join(repo, 'packages', 'a', 'node_modules'), { recursive: true });
    writeFileSync(join(repo, 'packages', 'a', 'index.js'), 'a\n');
    git(repo, 'add', 'packages/a/index.js');
    git(repo, 'commit', '-q', '-m', 'package a');
    const worktree = join(worktreeRoot, 'wt');
    git(repo, 'worktree', 'add', '-q', '--detach', worktree, 'HEAD');

    const linked = await linkUntrackedPaths({ repoRoot: repo, worktree, links: ['node_modules', 'vendor', 'cache', 'packages/*/node_modules'] }, logger);

    expect(linked).toEqual(['node_modules', 'packages/a/node_modules']);
    expect(lstatSync(join(worktree, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(worktree, 'node_modules'))).toBe(join(repo, 'node_modules'));
    expect(lstatSync(join(worktree, 'vendor')).isSymbolicLink()).toBe(false);
    expect(existsSync(join(worktree, 'cache'))).toBe(false);
    // Kept out of git through info/exclude, not the user's files: `git add -A` stages nothing.
    expect(readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8')).toContain('/node_modules\n');
    expect(git(worktree, 'status', '--porcelain')).toBe('');
    git(worktree, 'add', '-A');
    expect(git(worktree, 'diff', '--cached', '--name-only')).toBe('');
    expect(readFileSync(join(repo, '.gitignore'), 'utf8')).toBe('');
    // Linking again adds no second exclude line.
    rmSync(join(worktree, 'node_modules'));
    await linkUntrackedPaths({ repoRoot: repo, worktree, links: ['node_modules'] }, logger);
    expect(readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8').split('\n').filter((l) => l === '/node_modules')).toHaveLength(1);
    git(repo, 'worktree', 'remove', '--force', worktree);
    expect(existsSync(join(repo, 'node_modules', 'dep', 'index.js'))).toBe(true);
  });
});
