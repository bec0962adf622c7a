/**
 * What an e2e test checks of a succeeded task's delivery: the fix is committed on the task's
 * branch (`maestro/<taskId>`) with the expected commit subjects, the user's branch has not
 * moved, and the repository's tests pass in a checkout of the task branch.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { E2eCluster } from './harness.js';

/** Asserts the task branch of `taskId` holds `contains` in `file`, exactly `subjects` since the base, and passes `npm test`. */
export function expectFixOnTaskBranch(e2e: E2eCluster, taskId: string, expected: { file: string; contains: string; subjects: string }): void {
  const branch = `maestro/${taskId}`;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: e2e.repo, encoding: 'utf8' }).trim();
  expect(git('show', `${branch}:${expected.file}`)).toContain(expected.contains);
  expect(git('log', '--format=%s', `${e2e.baseSha}..${branch}`)).toBe(expected.subjects);
  expect(git('rev-parse', 'HEAD')).toBe(e2e.baseSha);
  // The task branch's tests pass, in a checkout of it.
  const checkout = mkdtempSync(join(tmpdir(), 'maestro-e2e-branch-'));
  try {
    git('worktree', 'add', '--detach', '-q', checkout, branch);
    execFileSync('npm', ['test'], { cwd: checkout, stdio: 'pipe' });
  } finally {
    git('worktree', 'remove', '--force', checkout);
  }
}
