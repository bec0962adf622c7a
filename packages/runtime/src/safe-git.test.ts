import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTrappedGitRepo, type TrappedGitRepo } from '@maestro/testing';
import { findUnsafeGitConfig, GIT_CONFIG_LIST_ARGS, safeGitArgs, safeGitEnv } from './safe-git.js';

describe('safeGitArgs', () => {
  it('puts the -c overrides first and keeps the arguments in order', () => {
    const args = safeGitArgs(['status', '--porcelain']);
    expect(args.slice(0, 2)).toEqual(['-c', 'core.hooksPath=/dev/null']);
    expect(args.slice(-2)).toEqual(['status', '--porcelain']);
    expect(args).toEqual(expect.arrayContaining(['core.fsmonitor=false', 'credential.helper=', 'protocol.ext.allow=never', 'commit.gpgSign=false']));
  });

  it.each([
    [['diff', 'HEAD'], ['diff', '--no-ext-diff', '--no-textconv', 'HEAD']],
    [['-C', '/r', 'log', '-p'], ['-C', '/r', 'log', '--no-ext-diff', '--no-textconv', '-p']],
    [['-c', 'user.name=x', 'show', 'HEAD'], ['-c', 'user.name=x', 'show', '--no-ext-diff', '--no-textconv', 'HEAD']],
    [['--literal-pathspecs', 'diff', '--', 'a'], ['--literal-pathspecs', 'diff', '--no-ext-diff', '--no-textconv', '--', 'a']],
    [['commit', '-m', 'diff'], ['commit', '-m', 'diff']],
  ])('adds --no-ext-diff --no-textconv after a diff-showing subcommand: %j', (args, tail) => {
    expect(safeGitArgs(args).slice(-tail.length)).toEqual(tail);
  });
});

describe('safeGitEnv', () => {
  it('drops every inherited GIT_* variable and SSH_ASKPASS, keeps the rest, and sets its own', () => {
    const env = safeGitEnv(
      { PATH: '/usr/bin', HOME: '/home/u', GIT_DIR: '/elsewhere/.git', GIT_WORK_TREE: '/etc', GIT_EXEC_PATH: '/evil', GIT_SSH_COMMAND: 'evil', GIT_CONFIG_PARAMETERS: "'core.pager'='evil'", GIT_CONFIG_COUNT: '1', GIT_ASKPASS: 'evil', SSH_ASKPASS: 'evil', GIT_EXTERNAL_DIFF: 'evil' },
      { readOnly: true },
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/u',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_PAGER: 'cat',
      GIT_EDITOR: 'true',
      GIT_OPTIONAL_LOCKS: '0',
    });
  });
});

describe('findUnsafeGitConfig', () => {
  it('names filter, merge and diff drivers; notes overridden keys; skips our own overrides', () => {
    const listed = [
      'core.hookspath\n/dev/null',
      'core.bare\nfalse',
      'filter.lfs.smudge\ngit-lfs smudge -- %f',
      'filter.Sneaky.process\n./run',
      'merge.ours.driver\ntrue',
      'diff.bin.textconv\nhexdump',
      'diff.img.command\n./show',
      'core.hookspath\n.githooks',
      'core.fsmonitor\n./fsmon',
      'user.name\nx',
      '',
    ].join('\0');
    expect(findUnsafeGitConfig(listed)).toEqual({
      unsafe: ['filter.lfs.smudge', 'filter.Sneaky.process', 'merge.ours.driver', 'diff.bin.textconv', 'diff.img.command'],
      overridden: ['core.hookspath', 'core.fsmonitor'],
    });
  });

  it('finds nothing in a plain repository', () => {
    expect(findUnsafeGitConfig('core.bare\nfalse\0user.email\na@b\0')).toEqual({ unsafe: [], overridden: [] });
  });
});

describe('real git on a trapped repository', () => {
  let trapped: TrappedGitRepo;
  beforeEach(() => {
    trapped = createTrappedGitRepo();
  });
  afterEach(() => trapped.remove());

  const safeGit = (...args: string[]): string =>
    execFileSync('git', safeGitArgs(args), { cwd: trapped.repo, encoding: 'utf8', env: safeGitEnv(process.env) });

  it('runs the traps without the hardening (the traps work)', () => {
    writeFileSync(join(trapped.repo, 'README.md'), '# changed\n');
    spawnSync('git', ['commit', '-qam', 'plain git'], { cwd: trapped.repo, env: { ...process.env, GIT_PAGER: '' } });
    expect(trapped.firedTraps()).toEqual(expect.arrayContaining(['hookspath-pre-commit', 'hookspath-post-commit', 'fsmonitor']));
  });

  it('runs none of them: status, diff, log, add, commit, branch, checkout, merge, worktree', () => {
    writeFileSync(join(trapped.repo, 'README.md'), '# changed\n');
    safeGit('status');
    safeGit('diff');
    safeGit('add', '-A');
    safeGit('commit', '-q', '-m', 'hardened');
    safeGit('log', '-p', '-1');
    safeGit('show', 'HEAD');
    safeGit('checkout', '-q', '-b', 'side');
    writeFileSync(join(trapped.repo, 'side.txt'), 'side\n');
    safeGit('add', 'side.txt');
    safeGit('commit', '-q', '-m', 'side');
    safeGit('checkout', '-q', 'main');
    writeFileSync(join(trapped.repo, 'main.txt'), 'main\n');
    safeGit('add', 'main.txt');
    safeGit('commit', '-q', '-m', 'main');
    safeGit('merge', '-q', '--no-edit', 'side');
    safeGit('worktree', 'add', '-q', join(trapped.markerDir, '..', 'wt'), 'side');
    safeGit('update-ref', 'refs/heads/moved', 'HEAD');
    safeGit('commit', '--amend', '-q', '--no-edit');
    expect(trapped.firedTraps()).toEqual([]);
  });

  it('reads the config for the unsafe-driver check without running anything', () => {
    execFileSync('git', ['config', 'filter.sneaky.smudge', `touch ${join(trapped.markerDir, 'smudge')}`], { cwd: trapped.repo });
    const found = findUnsafeGitConfig(safeGit(...GIT_CONFIG_LIST_ARGS));
    expect(found.unsafe).toEqual(['filter.sneaky.smudge']);
    expect(found.overridden).toEqual(expect.arrayContaining(['core.hookspath', 'core.fsmonitor', 'core.pager', 'core.editor', 'sequence.editor', 'diff.external', 'core.sshcommand']));
    expect(trapped.firedTraps()).toEqual([]);
  });
});
