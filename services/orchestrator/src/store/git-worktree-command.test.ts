import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@maestro/runtime';
import { execGitWorktreeCommand } from './git-worktree-command.js';

/** A clock whose sleeps end at once after running `onSleep` (another process getting on with its work). */
function steppingClock(onSleep: (count: number) => void): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => Date.now(), sleep: async (ms) => void (slept.push(ms), onSleep(slept.length)), setTimer: () => ({ cancel: () => undefined }) };
}

describe('execGitWorktreeCommand (real git)', () => {
  let repo: string;
  let admin: string;

  beforeEach(() => {
    repo = realpathSync(mkdtempSync(join(tmpdir(), 'orchestrator-worktree-race-')));
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'x']);
    // An executor's `git worktree add` half-way through: gitdir written, commondir still empty.
    admin = join(repo, '.git', 'worktrees', 'executor-wt');
    mkdirSync(admin, { recursive: true });
    writeFileSync(join(admin, 'gitdir'), `${repo}-elsewhere/.git\n`);
    writeFileSync(join(admin, 'commondir'), '');
  });

  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('lists the worktrees once the other process has finished writing its metadata', async () => {
    const clock = steppingClock(() => {
      writeFileSync(join(admin, 'commondir'), '../..\n');
      writeFileSync(join(admin, 'HEAD'), `${execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()}\n`);
    });
    const listed = await execGitWorktreeCommand('git', ['-C', repo, 'worktree', 'list', '--porcelain'], {}, { clock });
    expect(listed).toContain(`worktree ${repo}\n`);
    expect(clock.slept).toEqual([20]);
  });

  it("rejects as execFile does, with git's words, when the metadata stays half-written", async () => {
    const clock = steppingClock(() => undefined);
    await expect(execGitWorktreeCommand('git', ['-C', repo, 'worktree', 'list', '--porcelain'], {}, { clock, attempts: 3 })).rejects.toMatchObject({
      stderr: expect.stringContaining('failed to read .git/worktrees/executor-wt/commondir'),
    });
    expect(clock.slept).toEqual([20, 40]);
  });
});
