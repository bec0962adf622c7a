import { toRepositoryConcern, toRepositoryConcerns } from './repository-concerns.js';

const roots = { worktreeRoot: '/tmp/wt/exec/t1--s1--a1', repoRoot: '/srv/repo' };

describe('toRepositoryConcern', () => {
  it('names files and directories of the worktree by the repository', () => {
    expect(toRepositoryConcern('file:/tmp/wt/exec/t1--s1--a1/src/a.ts', roots)).toBe('file:/srv/repo/src/a.ts');
    expect(toRepositoryConcern('dir:/tmp/wt/exec/t1--s1--a1/src', roots)).toBe('dir:/srv/repo/src');
    expect(toRepositoryConcern('dir:/tmp/wt/exec/t1--s1--a1', roots)).toBe('dir:/srv/repo');
  });

  it("drops the worktree's own git index: nobody else uses it", () => {
    expect(toRepositoryConcern('git-index:/tmp/wt/exec/t1--s1--a1', roots)).toBeUndefined();
  });

  it('keeps other concerns and paths outside the worktree (a sibling with a longer name is outside)', () => {
    expect(toRepositoryConcern('port:3000', roots)).toBe('port:3000');
    expect(toRepositoryConcern('resource:db', roots)).toBe('resource:db');
    expect(toRepositoryConcern('file:/srv/repo/src/a.ts', roots)).toBe('file:/srv/repo/src/a.ts');
    expect(toRepositoryConcern('file:/tmp/wt/exec/t1--s1--a10/a.ts', roots)).toBe('file:/tmp/wt/exec/t1--s1--a10/a.ts');
  });

  it('maps a list without duplicates', () => {
    expect(
      toRepositoryConcerns(
        ['file:/tmp/wt/exec/t1--s1--a1/a.ts', 'file:/srv/repo/a.ts', 'git-index:/tmp/wt/exec/t1--s1--a1'],
        roots,
      ),
    ).toEqual(['file:/srv/repo/a.ts']);
  });
});
