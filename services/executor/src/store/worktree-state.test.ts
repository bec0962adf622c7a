import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitStateOf, uncommittedReason, type CommitState } from './worktree-state.js';

const START = 'a'.repeat(40);
const NO_COMMIT = 'no commit: the work was never committed (git.commit failed or was not called)';

/** A clean worktree state: nothing uncommitted, no merge under way. */
const clean = (head: string | undefined): CommitState => ({ head, uncommitted: [], mergeInProgress: false });

describe('uncommittedReason', () => {
  it('says "no commit" when the agent declared done on a clean tree whose HEAD has not moved', () => {
    expect(uncommittedReason(clean(START), START)).toBe(NO_COMMIT);
  });

  it('says "no commit" when the worktree has no HEAD at all', () => {
    expect(uncommittedReason(clean(undefined), START)).toBe(NO_COMMIT);
  });

  it('finds nothing missing once HEAD moved past the start on a clean tree', () => {
    expect(uncommittedReason(clean('b'.repeat(40)), START)).toBeUndefined();
  });

  it('names uncommitted files before the missing commit', () => {
    expect(uncommittedReason({ head: START, uncommitted: ['?? notes.md'], mergeInProgress: false }, START)).toBe('files left uncommitted: ?? notes.md');
  });

  describe('on a real worktree', () => {
    let dir: string;
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'executor-worktree-state-'));
      execFileSync('git', ['init', '-q', dir]);
      writeFileSync(join(dir, 'README.md'), 'calc\n');
      git('add', '-A');
      git('commit', '-qm', 'init');
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reports "no commit" when nothing was changed or committed since the start', async () => {
      const start = git('rev-parse', 'HEAD');
      expect(uncommittedReason(await commitStateOf(dir), start)).toBe(NO_COMMIT);
    });

    it('reports nothing once the work is committed', async () => {
      const start = git('rev-parse', 'HEAD');
      writeFileSync(join(dir, 'divide.js'), 'export const divide = (a, b) => a / b;\n');
      git('add', '-A');
      git('commit', '-qm', 'divide');
      expect(uncommittedReason(await commitStateOf(dir), start)).toBeUndefined();
    });
  });
});
