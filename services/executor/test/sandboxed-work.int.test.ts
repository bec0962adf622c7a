/**
 * The executor's agents and test gate in the sandbox, against real git and real bubblewrap: a
 * subtask whose tests need the checkout's `node_modules` (linked into the worktree) passes with
 * its test command inside bwrap — and the test itself checks it runs sandboxed (its own HOME,
 * no /etc/shadow, the user's checkout invisible); with no sandbox to be had, the same work fails
 * with SANDBOX_UNAVAILABLE in the test step and nothing is run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BubblewrapSandbox, RefusingSandbox, type ChatModel, type ChatModelReply, type ChatModelRequest, type Sandbox } from '@maestro/agent';
import { ScriptedProvider, parseScript } from '@maestro/llm';
import { createSilentLogger } from '@maestro/runtime';
import { resultOf } from '../src/domain/escalation.js';
import { ExecutorStats } from '../src/domain/executor-stats.js';
import { SubtaskWorker } from '../src/work/subtask-worker.js';
import { MemoryPublisher, MemoryResults } from './memory-work-sinks.js';
import { TEST_REPO_ROOTS } from './math-repo.js';
import { RecordingWriteGuard } from './recording-write-guard.js';

jest.setTimeout(60_000);

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

function makeRepo(): string {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), 'executor-sandbox-repo-')));
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 'test@example.invalid');
  git(repo, 'config', 'user.name', 'Sandbox Test');
  writeFileSync(join(repo, '.gitignore'), 'node_modules/\n');
  writeFileSync(join(repo, 'math.js'), "const dep = require('dep');\nexports.add = (a, b) => dep.plus(a, b);\n");
  writeFileSync(
    join(repo, 'math.test.js'),
    [
      "const test = require('node:test');",
      "const assert = require('node:assert');",
      "const fs = require('node:fs');",
      "const m = require('./math.js');",
      "test('add', () => assert.strictEqual(m.add(2, 3), 5));",
      "test('sandboxed', () => {",
      "  assert.strictEqual(process.env.HOME, '/tmp/home');",
      "  assert.strictEqual(fs.existsSync('/etc/shadow'), false);",
      `  assert.strictEqual(fs.existsSync(${JSON.stringify(join(repo, 'math.js'))}), false);`,
      '});',
      '',
    ].join('\n'),
  );
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  mkdirSync(join(repo, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(repo, 'node_modules', 'dep', 'index.js'), 'exports.plus = (a, b) => a + b;\n');
  return repo;
}

const script = parseScript({
  rules: [
    {
      name: 'twice',
      when: { intent: 'code', contains: 'Add twice' },
      turns: [
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'twice.js', content: "exports.twice = (a) => require('./math.js').add(a, a);\n" } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add twice' } }] },
        { content: 'Done.' },
        { content: 'Done.' },
        { content: 'Done.' },
      ],
    },
  ],
});

class ScriptModel implements ChatModel {
  private readonly provider = new ScriptedProvider(script, 'sandboxed-work-test');
  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }
}

describe('subtask commands in the sandbox (real git, real bwrap)', () => {
  let repo: string;
  let worktreeRoot: string;
  beforeEach(() => {
    repo = makeRepo();
    worktreeRoot = realpathSync(mkdtempSync(join(tmpdir(), 'executor-sandbox-root-')));
  });
  afterEach(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreeRoot, { recursive: true, force: true });
  });

  async function handle(sandbox: Sandbox): Promise<{ ok: boolean; publisher: MemoryPublisher }> {
    const publisher = new MemoryPublisher();
    const worker = new SubtaskWorker({
      executorId: 'exec-sandbox',
      results: new MemoryResults(),
      publisher,
      budget: { maxSteps: 8 },
      repoRoots: TEST_REPO_ROOTS,
      stats: new ExecutorStats(),
      logger: createSilentLogger(),
      workspace: { worktreeRoot, worktreeLinks: ['node_modules'] },
      createModel: () => new ScriptModel(),
      createWriteGuard: () => new RecordingWriteGuard(),
      sandbox,
    });
    const work = {
      workId: 's1:1', taskId: 'task-sandbox', runId: 'run-sandbox', subtaskId: 's1', attempt: 1,
      goal: 'Grow the calculator', title: 'Add twice', instructions: 'See the title.', files: [],
      repoPath: repo, testCommand: ['node', '--test'], project: 'calculator',
    };
    const outcome = await worker.handle(work, { working: () => undefined });
    return { ok: resultOf(outcome).ok, publisher };
  }

  it("passes with the test command inside bwrap, the checkout's node_modules read-only, the checkout itself invisible", async () => {
    const { ok, publisher } = await handle(new BubblewrapSandbox());
    expect(publisher.steps.filter((s) => s.tool === 'tests').map((s) => s.ok)).toEqual([true]);
    expect(ok).toBe(true);
  });

  it('refuses the test command with SANDBOX_UNAVAILABLE when no sandbox could be had', async () => {
    const { ok, publisher } = await handle(new RefusingSandbox('bwrap not found'));
    const tests = publisher.steps.filter((s) => s.tool === 'tests');
    expect(tests.length).toBeGreaterThan(0);
    expect(tests.every((s) => !s.ok && JSON.stringify(s).includes('SANDBOX_UNAVAILABLE'))).toBe(true);
    expect(ok).toBe(false);
  });
});
