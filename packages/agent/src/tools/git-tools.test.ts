import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTrappedGitRepo } from '@maestro/testing';
import { gitChangedFiles, gitHead } from '../loop/git-changes.js';
import { listWorkspaceFiles } from '../workspace-files.js';
import { createDefaultToolRegistry } from '../default-tool-registry.js';
import type { ToolContext } from '../tool-registry.js';

const tools = createDefaultToolRegistry();
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const call = (context: ToolContext, name: string, args: Record<string, unknown> = {}) =>
  tools.run({ id: 'g', name, argumentsJson: JSON.stringify(args) }, context);

describe('git.status and git.diff', () => {
  let repo: string;
  let context: ToolContext;
  beforeEach(() => {
    repo = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-git-')));
    context = { workspace: repo };
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'test@example.com');
    git(repo, 'config', 'user.name', 'Test');
    mkdirSync(join(repo, 'src'));
    writeFileSync(join(repo, 'src', 'a.js'), 'const a = 1;\n');
    writeFileSync(join(repo, 'src', 'old.js'), 'old\n');
    writeFileSync(join(repo, 'README.md'), '# demo\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'init');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('git.status lists staged, unstaged and untracked changes in words', async () => {
    expect(await call(context, 'git.status')).toEqual({ ok: true, output: 'On branch main\nNothing to commit: the working tree is clean.' });
    git(repo, 'mv', 'src/old.js', 'src/new.js');
    writeFileSync(join(repo, 'src', 'a.js'), 'const a = 2;\n');
    git(repo, 'add', 'src/a.js');
    writeFileSync(join(repo, 'src', 'a.js'), 'const a = 3;\n');
    writeFileSync(join(repo, 'README.md'), '# changed\n');
    mkdirSync(join(repo, 'docs', 'deep'), { recursive: true });
    writeFileSync(join(repo, 'docs', 'deep', 'notes.md'), 'n\n');
    expect(await call(context, 'git.status')).toEqual({
      ok: true,
      output: [
        'On branch main',
        'Staged (will be committed):',
        '  modified: src/a.js',
        '  renamed: src/old.js -> src/new.js',
        'Not staged:',
        '  modified: README.md',
        '  modified: src/a.js',
        'Untracked:',
        '  docs/deep/notes.md',
      ].join('\n'),
    });
    // git.status reads without taking the index lock another agent may hold.
    expect(existsSync(join(repo, '.git', 'index.lock'))).toBe(false);
  });

  it('git.status shows merge conflicts, and paths relative to a workspace inside a larger repository', async () => {
    git(repo, 'checkout', '-q', '-b', 'other');
    writeFileSync(join(repo, 'src', 'a.js'), 'const a = "other";\n');
    git(repo, 'commit', '-q', '-am', 'other');
    git(repo, 'checkout', '-q', 'main');
    writeFileSync(join(repo, 'src', 'a.js'), 'const a = "main";\n');
    git(repo, 'commit', '-q', '-am', 'main');
    expect(() => git(repo, 'merge', '-q', 'other')).toThrow();
    const conflicted = await call(context, 'git.status');
    expect(conflicted.output).toBe(['On branch main', 'Unmerged (resolve the conflicts, then stage the files):', '  both modified: src/a.js'].join('\n'));
    writeFileSync(join(repo, 'src', 'b.js'), 'b\n');
    writeFileSync(join(repo, 'README.md'), 'outside the workspace\n');
    expect((await call({ workspace: join(repo, 'src') }, 'git.status')).output).toBe(
      ['On branch main', 'Unmerged (resolve the conflicts, then stage the files):', '  both modified: a.js', 'Untracked:', '  b.js'].join('\n'),
    );
  });

  it('git.diff shows unstaged or staged changes, optionally for some paths', async () => {
    expect(await call(context, 'git.diff')).toEqual({
      ok: true,
      output: 'no unstaged changes (staged changes: use staged: true; untracked files never appear in a diff, see git.status)',
    });
    writeFileSync(join(repo, 'src', 'a.js'), 'const a = 2;\n');
    writeFileSync(join(repo, 'README.md'), '# changed\n');
    const all = await call(context, 'git.diff');
    expect(all.ok).toBe(true);
    expect(all.output).toContain('--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# demo\n+# changed\n');
    expect(all.output).toContain('--- a/src/a.js\n+++ b/src/a.js\n@@ -1 +1 @@\n-const a = 1;\n+const a = 2;\n');
    const one = await call(context, 'git.diff', { paths: ['src'] });
    expect(one.output).not.toContain('README.md');
    expect(one.output).toContain('+const a = 2;');
    expect((await call(context, 'git.diff', { staged: true })).output).toBe('no staged changes');
    git(repo, 'add', 'README.md');
    const staged = await call(context, 'git.diff', { staged: true });
    expect(staged.output).toContain('+# changed');
    expect(staged.output).not.toContain('a.js');
    expect((await call(context, 'git.diff', { paths: ['README.md'] })).output).toBe(
      'no unstaged changes in README.md (staged changes: use staged: true; untracked files never appear in a diff, see git.status)',
    );
  });

  it('git.diff keeps the start of a long diff and lists every changed file', async () => {
    writeFileSync(join(repo, 'src', 'a.js'), Array.from({ length: 3_000 }, (_, i) => `const line${i} = ${i};`).join('\n'));
    writeFileSync(join(repo, 'src', 'old.js'), 'new\n');
    const result = await call(context, 'git.diff');
    expect(result.ok).toBe(true);
    expect(result.output.length).toBeLessThan(31_000);
    expect(result.output).toMatch(/^diff --git a\/src\/a\.js b\/src\/a\.js\n/);
    expect(result.output).toMatch(/\[\.\.\. diff cut: showing \d+ of \d+ characters\. Every changed file:\n src\/a\.js +\| +3001 \+{19}-\n src\/old\.js +\| +2 \+-\n 2 files changed, 3001 insertions\(\+\), 2 deletions\(-\)\n/);
    expect(result.output).toMatch(/Ask for fewer paths to see the rest\.\]$/);
  });

  it('refuses paths outside the workspace and says when there is no repository', async () => {
    expect((await call(context, 'git.diff', { paths: ['../elsewhere'] })).output).toContain('leads outside the workspace');
    const plain = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-nogit-')));
    try {
      expect((await call({ workspace: plain }, 'git.status')).output).toMatch(/^the workspace is not a git repository: fatal: not a git repository/);
      expect((await call({ workspace: plain }, 'git.diff')).output).toMatch(/^the workspace is not a git repository/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe('the git tools on a repository with hooks and command-running config', () => {
  it('run none of its hooks, fsmonitor, pager, editor or external diff', async () => {
    const trapped = createTrappedGitRepo();
    try {
      const context: ToolContext = { workspace: trapped.repo };
      writeFileSync(join(trapped.repo, 'README.md'), '# changed\n');
      writeFileSync(join(trapped.repo, 'new.txt'), 'new\n');
      const base = await gitHead(trapped.repo, undefined);
      expect((await call(context, 'git.status')).ok).toBe(true);
      expect((await call(context, 'git.diff')).output).toContain('# changed');
      expect((await call(context, 'git.commit', { message: 'change', paths: ['README.md', 'new.txt'] })).ok).toBe(true);
      expect((await call(context, 'git.diff', { staged: true })).ok).toBe(true);
      expect((await listWorkspaceFiles(trapped.repo, '.')).files).toContain('new.txt');
      expect((await gitChangedFiles(trapped.repo, base, undefined)).sort()).toEqual(['README.md', 'new.txt']);
      expect(trapped.firedTraps()).toEqual([]);
    } finally {
      trapped.remove();
    }
  });
});
