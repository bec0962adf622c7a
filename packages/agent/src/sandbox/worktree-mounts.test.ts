import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { worktreeMounts } from './worktree-mounts.js';
import { worktreeTopOf } from './worktree-top.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });

describe('worktreeMounts', () => {
  let base: string;
  let repo: string;
  let linked: string;
  beforeEach(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-worktree-mounts-')));
    repo = join(base, 'repo');
    mkdirSync(join(repo, 'node_modules'), { recursive: true });
    mkdirSync(join(repo, 'packages', 'a', 'node_modules'), { recursive: true });
    writeFileSync(join(repo, '.gitignore'), 'node_modules\n');
    writeFileSync(join(repo, 'packages', 'a', 'index.js'), '\n');
    git(base, 'init', '-q', 'repo');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
    linked = join(base, 'linked');
    git(repo, 'worktree', 'add', '-q', '--detach', linked);
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it("binds the repository's git dir and the executor's links to the checkout, nothing else outside", () => {
    symlinkSync(join(repo, 'node_modules'), join(linked, 'node_modules'));
    symlinkSync(join(repo, 'packages', 'a', 'node_modules'), join(linked, 'packages', 'a', 'node_modules'));
    // Links a command could have made: to the checkout's other paths, to anywhere on the host.
    symlinkSync(repo, join(linked, 'checkout'));
    symlinkSync('/root', join(linked, 'root-home'));
    symlinkSync(join(repo, 'node_modules'), join(linked, 'packages', 'deps'));
    const mounts = worktreeMounts(linked);
    expect(mounts.readOnly.sort()).toEqual([join(repo, '.git'), join(repo, 'node_modules'), join(repo, 'packages', 'a', 'node_modules')].sort());
    expect(mounts.protectedInside).toEqual([join(linked, '.git')]);
  });

  it("protects a checkout's own .git directory and binds nothing outside it", () => {
    expect(worktreeMounts(repo)).toEqual({ readOnly: [], protectedInside: [join(repo, '.git')] });
  });

  it('needs nothing for a directory outside any repository', () => {
    expect(worktreeMounts(base)).toEqual({ readOnly: [], protectedInside: [] });
  });

  it('finds the top of the worktree from a subdirectory', () => {
    expect(worktreeTopOf(join(linked, 'packages', 'a'))).toBe(linked);
    expect(worktreeTopOf(base)).toBe(base);
  });
});
