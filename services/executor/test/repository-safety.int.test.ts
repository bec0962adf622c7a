/**
 * The executor's real worktree, commit and merge flow on repositories that try to make our git
 * run their code, and its own check of `MAESTRO_REPO_ROOTS` right before it touches a
 * repository (real git, temp repositories, the real SubtaskWorker with a scripted model):
 * - hooks (`.git/hooks` and a `core.hooksPath`), `core.fsmonitor`, `core.pager`, `core.editor`,
 *   `diff.external`: the subtask succeeds and merges, and no trap fires;
 * - a filter driver in the repository's config: refused with REPO_UNSAFE_CONFIG before any
 *   worktree is made, the model never asked;
 * - a repository outside the roots, a symlink inside them leading out, or no roots at all:
 *   refused with REPO_OUTSIDE_ROOTS;
 * - with `MAESTRO_TENANT_REPO_ROOTS`, work on another tenant's repository (plainly or through a
 *   link in its own tenant's root), or of a tenant without an entry (work without a tenant is
 *   `default`'s): refused with REPO_OUTSIDE_TENANT_ROOTS; its own tenant's works.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import type { SubtaskWork } from '@maestro/contracts';
import { parseScript, ScriptedProvider, type Script } from '@maestro/llm';
import { createSilentLogger, parseTenantRepoRoots, RepoSafetyErrorCodes, type TenantRepoRoots } from '@maestro/runtime';
import { createTrappedGitRepo, type TrappedGitRepo } from '@maestro/testing';
import { resultOf } from '../src/domain/escalation.js';
import { ExecutorStats } from '../src/domain/executor-stats.js';
import { SubtaskWorker } from '../src/work/subtask-worker.js';
import { TEST_REPO_ROOTS } from './math-repo.js';
import { MemoryPublisher, MemoryResults } from './memory-work-sinks.js';
import { RecordingWriteGuard } from './recording-write-guard.js';

jest.setTimeout(60_000);

const TASK = 'task-safety';
const BRANCH = `maestro/${TASK}`;
const MATH_FILES = {
  'math.js': 'exports.add = (a, b) => a + b;\n',
  'math.test.js': "const test = require('node:test');\nconst assert = require('node:assert');\nconst m = require('./math.js');\ntest('add', () => assert.strictEqual(m.add(2, 3), 5));\n",
};

/** A ChatModel over a ScriptedProvider, counting its calls. */
class ScriptModel implements ChatModel {
  calls = 0;
  private readonly provider: ScriptedProvider;
  constructor(script: Script) {
    this.provider = new ScriptedProvider(script, 'repository-safety-test');
  }
  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    this.calls++;
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }
}

const subtractScript = (): Script =>
  parseScript({
    rules: [
      {
        name: 'sub',
        when: { intent: 'code', contains: 'Add subtract' },
        turns: [
          { toolCalls: [{ name: 'fs.write', arguments: { path: 'sub.js', content: 'exports.sub = (a, b) => a - b;\n' } }] },
          { toolCalls: [{ name: 'git.status', arguments: {} }] },
          { toolCalls: [{ name: 'git.diff', arguments: {} }] },
          { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add subtract' } }] },
          { content: 'Added subtract.' },
        ],
      },
    ],
  });

function workFor(repo: string, tenant?: string): SubtaskWork {
  return {
    ...(tenant !== undefined ? { tenant } : {}),
    workId: 's1:1',
    taskId: TASK,
    runId: 'run-safety',
    subtaskId: 's1',
    attempt: 1,
    goal: 'Grow the calculator',
    title: 'Add subtract',
    instructions: 'See the title.',
    files: [],
    repoPath: repo,
    testCommand: ['node', '--test'],
    project: 'calculator',
  };
}

const git = (repo: string, ...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
const worktreeCount = (repo: string): number => (git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm) ?? []).length;

describe('the executor on repositories that try to run their code through our git', () => {
  let worktreeRoot: string;
  let trapped: TrappedGitRepo;
  let model: ScriptModel;

  const worker = (repoRoots: readonly string[], tenantRepoRoots?: readonly TenantRepoRoots[]): SubtaskWorker =>
    new SubtaskWorker({
      executorId: 'exec-safety',
      results: new MemoryResults(),
      publisher: new MemoryPublisher(),
      budget: { maxSteps: 12 },
      repoRoots,
      ...(tenantRepoRoots !== undefined ? { tenantRepoRoots } : {}),
      stats: new ExecutorStats(),
      logger: createSilentLogger(),
      workspace: { worktreeRoot },
      createModel: () => model,
      createWriteGuard: () => new RecordingWriteGuard(),
    });

  beforeEach(() => {
    worktreeRoot = realpathSync(mkdtempSync(join(tmpdir(), 'executor-safety-wt-')));
    trapped = createTrappedGitRepo({ files: MATH_FILES });
    model = new ScriptModel(subtractScript());
  });

  afterEach(() => {
    trapped.remove();
    rmSync(worktreeRoot, { recursive: true, force: true });
  });

  it('works, commits and merges with none of its hooks, fsmonitor, pager, editor or external diff running', async () => {
    const outcome = await worker(TEST_REPO_ROOTS).handle(workFor(trapped.repo), { working: () => undefined });

    const result = resultOf(outcome);
    const tip = git(trapped.repo, 'rev-parse', BRANCH);
    expect(result).toMatchObject({ ok: true, commitSha: tip, merged: { branch: BRANCH, sha: tip }, filesChanged: ['sub.js'] });
    expect(git(trapped.repo, 'log', '--format=%s', BRANCH)).toBe('Add subtract\ninit');
    expect(trapped.firedTraps()).toEqual([]);
  });

  it('refuses a repository whose config defines a filter driver before making a worktree, naming the key', async () => {
    git(trapped.repo, 'config', 'filter.sneaky.smudge', `touch ${join(trapped.markerDir, 'smudge')}`);
    git(trapped.repo, 'config', 'filter.sneaky.clean', `touch ${join(trapped.markerDir, 'clean')}`);
    const outcome = await worker(TEST_REPO_ROOTS).handle(workFor(trapped.repo), { working: () => undefined });

    const result = resultOf(outcome);
    expect(result.ok).toBe(false);
    expect(result.failureReason).toContain(RepoSafetyErrorCodes.REPO_UNSAFE_CONFIG);
    expect(result.failureReason).toContain('filter.sneaky.smudge');
    expect(model.calls).toBe(0);
    expect(worktreeCount(trapped.repo)).toBe(1);
    expect(trapped.firedTraps()).toEqual([]);
  });

  describe('MAESTRO_REPO_ROOTS, checked again at use', () => {
    let roots: string;
    beforeEach(() => {
      roots = realpathSync(mkdtempSync(join(tmpdir(), 'executor-safety-roots-')));
    });
    afterEach(() => rmSync(roots, { recursive: true, force: true }));

    const refusedWith = async (repoPath: string, repoRoots: readonly string[], text: string): Promise<void> => {
      const result = resultOf(await worker(repoRoots).handle(workFor(repoPath), { working: () => undefined }));
      expect(result.ok).toBe(false);
      expect(result.failureReason).toContain(RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS);
      expect(result.failureReason).toContain('repoPath:');
      expect(result.failureReason).toContain(text);
      expect(model.calls).toBe(0);
      expect(worktreeCount(trapped.repo)).toBe(1);
    };

    it('refuses a repository outside the roots', async () => {
      await refusedWith(trapped.repo, [roots], roots);
    });

    it('refuses a symlink inside the roots that leads outside them (as after a swap)', async () => {
      const link = join(roots, 'calc');
      symlinkSync(trapped.repo, link);
      await refusedWith(link, [roots], `its real path is ${trapped.repo}`);
    });

    it('refuses a sibling of a root whose name merely starts with it', async () => {
      const evil = `${roots}-evil`;
      mkdirSync(evil);
      try {
        symlinkSync(trapped.repo, join(evil, 'calc'));
        await refusedWith(join(evil, 'calc'), [roots], roots);
      } finally {
        rmSync(evil, { recursive: true, force: true });
      }
    });

    it('refuses every repository when no roots are configured, naming the variable', async () => {
      await refusedWith(trapped.repo, [], 'MAESTRO_REPO_ROOTS');
    });

    it('works in a repository reached through a symlink inside the roots, at its real path', async () => {
      const link = join(roots, 'calc');
      symlinkSync(trapped.repo, link);
      const result = resultOf(await worker([roots, realpathSync(tmpdir())]).handle(workFor(link), { working: () => undefined }));
      expect(result.ok).toBe(true);
      expect(git(trapped.repo, 'rev-parse', BRANCH)).toBe(result.commitSha);
      expect(trapped.firedTraps()).toEqual([]);
    });
  });

  describe('MAESTRO_TENANT_REPO_ROOTS, checked again at use with the work item\'s tenant', () => {
    // acme's root is a fresh directory; globex's is the one holding the trapped repository.
    let acme: string;
    let tenantRepoRoots: readonly TenantRepoRoots[];
    beforeEach(() => {
      acme = realpathSync(mkdtempSync(join(tmpdir(), 'executor-safety-acme-')));
      tenantRepoRoots = parseTenantRepoRoots(`acme=${acme};globex=${dirname(trapped.repo)}`);
    });
    afterEach(() => rmSync(acme, { recursive: true, force: true }));

    const refusedWith = async (work: SubtaskWork, text: string): Promise<void> => {
      const result = resultOf(await worker(TEST_REPO_ROOTS, tenantRepoRoots).handle(work, { working: () => undefined }));
      expect(result.ok).toBe(false);
      expect(result.failureReason).toContain(RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS);
      expect(result.failureReason).toContain('repoPath:');
      expect(result.failureReason).toContain(text);
      expect(model.calls).toBe(0);
      expect(worktreeCount(trapped.repo)).toBe(1);
    };

    it("refuses work on another tenant's repository", async () => {
      await refusedWith(workFor(trapped.repo, 'acme'), `outside the repository roots of tenant acme, ${acme}`);
    });

    it("refuses a link in the tenant's own root leading into another tenant's, by its real path", async () => {
      const link = join(acme, 'calc');
      symlinkSync(trapped.repo, link);
      await refusedWith(workFor(link, 'acme'), `outside the repository roots of tenant acme, ${acme}`);
    });

    it('refuses work of a tenant without an entry; work without a tenant is default\'s', async () => {
      await refusedWith(workFor(trapped.repo, 'initech'), 'tenant initech has no repository roots (MAESTRO_TENANT_REPO_ROOTS)');
      await refusedWith(workFor(trapped.repo), 'tenant default has no repository roots (MAESTRO_TENANT_REPO_ROOTS)');
    });

    it("works in its own tenant's repository", async () => {
      const result = resultOf(await worker(TEST_REPO_ROOTS, tenantRepoRoots).handle(workFor(trapped.repo, 'globex'), { working: () => undefined }));
      expect(result.ok).toBe(true);
      expect(git(trapped.repo, 'rev-parse', BRANCH)).toBe(result.commitSha);
    });
  });
});
