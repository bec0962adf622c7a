import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from './clock.js';
import { retryWhileWorktreeMetadataHalfWritten, unreadableWorktreeMetadata } from './worktree-metadata-race.js';

/** A clock whose sleeps end at once and are written down. */
function recordingClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => 0, sleep: async (ms: number) => void slept.push(ms), setTimer: () => ({ cancel: () => undefined }) };
}

describe('unreadableWorktreeMetadata', () => {
  it('names the metadata directory of a worktree another git process is still writing', () => {
    expect(unreadableWorktreeMetadata('fatal: failed to read .git/worktrees/a30/commondir: Success\n')).toBe('.git/worktrees/a30');
    expect(unreadableWorktreeMetadata('fatal: failed to read /srv/repo/.git/worktrees/sub-1/gitdir: No such file or directory')).toBe('/srv/repo/.git/worktrees/sub-1');
  });

  it('leaves every other git failure alone', () => {
    expect(unreadableWorktreeMetadata("fatal: '/tmp/x' is not a working tree")).toBeUndefined();
    expect(unreadableWorktreeMetadata('fatal: failed to read object 1234: Success')).toBeUndefined();
    expect(unreadableWorktreeMetadata('')).toBeUndefined();
  });

  it("matches what this machine's git says when a worktree's metadata is half-written", () => {
    const repo = mkdtempSync(join(tmpdir(), 'maestro-half-written-'));
    try {
      execFileSync('git', ['init', '-q', repo]);
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'x']);
      // What another `git worktree add` leaves for a moment: gitdir written, commondir created but still empty.
      mkdirSync(join(repo, '.git', 'worktrees', 'half'), { recursive: true });
      writeFileSync(join(repo, '.git', 'worktrees', 'half', 'gitdir'), join(repo, '..', 'half', '.git\n'));
      writeFileSync(join(repo, '.git', 'worktrees', 'half', 'commondir'), '');
      const listed = spawnSync('git', ['-C', repo, 'worktree', 'list', '--porcelain'], { encoding: 'utf8' });
      expect(listed.status).not.toBe(0);
      expect(unreadableWorktreeMetadata(listed.stderr)).toBe('.git/worktrees/half');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('retryWhileWorktreeMetadataHalfWritten', () => {
  const halfWritten = { code: 128, stderr: 'fatal: failed to read .git/worktrees/w1/commondir: Success' };
  const ok = { code: 0, stderr: '' };
  const stderrOf = (outcome: { code: number; stderr: string }) => (outcome.code === 0 ? undefined : outcome.stderr);

  it('runs the command again, waiting longer each time, until the metadata is whole', async () => {
    const outcomes = [halfWritten, halfWritten, ok];
    const clock = recordingClock();
    let runs = 0;
    const outcome = await retryWhileWorktreeMetadataHalfWritten(async () => outcomes[runs++]!, stderrOf, { clock });
    expect(outcome).toBe(ok);
    expect(runs).toBe(3);
    expect(clock.slept).toEqual([20, 40]);
  });

  it('gives up after the bounded tries and returns the last failure', async () => {
    const clock = recordingClock();
    let runs = 0;
    const outcome = await retryWhileWorktreeMetadataHalfWritten(async () => (runs++, halfWritten), stderrOf, { clock, attempts: 4, firstDelayMs: 5 });
    expect(outcome).toBe(halfWritten);
    expect(runs).toBe(4);
    expect(clock.slept).toEqual([5, 10, 20]);
  });

  it('returns any other failure at once', async () => {
    const other = { code: 128, stderr: "fatal: '/tmp/x' is not a working tree" };
    const clock = recordingClock();
    let runs = 0;
    expect(await retryWhileWorktreeMetadataHalfWritten(async () => (runs++, other), stderrOf, { clock })).toBe(other);
    expect(runs).toBe(1);
    expect(clock.slept).toEqual([]);
  });
});
