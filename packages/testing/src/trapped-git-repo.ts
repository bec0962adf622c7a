/**
 * A git repository booby-trapped the ways a hostile repository could make our own git commands
 * run its code: executable hooks in `.git/hooks`, a `core.hooksPath` directory of more hooks,
 * and `core.fsmonitor`, `core.pager`, `core.editor`, `sequence.editor`, `diff.external` and
 * `core.sshCommand` pointing at scripts. Every trap only touches a marker file in `markerDir`,
 * so a test asserts `firedTraps()` is empty after running the code under test.
 *
 * @example
 * const trapped = createTrappedGitRepo();
 * await commitSomething(trapped.repo);
 * expect(trapped.firedTraps()).toEqual([]);
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The hooks installed, in `.git/hooks` and in the `core.hooksPath` directory. */
export const TRAPPED_HOOKS = [
  'pre-commit',
  'prepare-commit-msg',
  'commit-msg',
  'post-commit',
  'post-checkout',
  'post-merge',
  'pre-merge-commit',
  'reference-transaction',
  'post-rewrite',
  'post-index-change',
  'pre-auto-gc',
] as const;

/** A trapped repository and where its traps leave their markers. */
export interface TrappedGitRepo {
  /** The repository (real path): one commit of `README.md` on `main`, identity configured. */
  repo: string;
  /** Where each trap touches a file named after itself. */
  markerDir: string;
  /** The traps that fired so far (marker file names, sorted). */
  firedTraps(): string[];
  /** Deletes the repository and the markers. */
  remove(): void;
}

/** Options for {@link createTrappedGitRepo}. */
export interface TrappedGitRepoOptions {
  /** Where the repository is made (a new directory under it). @default os.tmpdir() */
  parent?: string;
  /** Files committed with `README.md` in the first commit. @default {} */
  files?: Record<string, string>;
}

function script(path: string, marker: string): string {
  writeFileSync(path, `#!/bin/sh\ntouch '${marker}'\ncat >/dev/null 2>&1 || true\nexit 0\n`);
  chmodSync(path, 0o755);
  return path;
}

/**
 * Makes a trapped repository. The first commit is made before the traps are set, so the
 * repository starts with no marker.
 */
export function createTrappedGitRepo(options: TrappedGitRepoOptions = {}): TrappedGitRepo {
  const base = realpathSync(mkdtempSync(join(options.parent ?? tmpdir(), 'maestro-trapped-')));
  const repo = join(base, 'repo');
  const markerDir = join(base, 'markers');
  const scripts = join(base, 'scripts');
  const hooksPath = join(base, 'hooks-path');
  for (const dir of [repo, markerDir, scripts, hooksPath]) mkdirSync(dir);
  const git = (...args: string[]): void => void execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'trapped@example.invalid');
  git('config', 'user.name', 'Trapped');
  writeFileSync(join(repo, 'README.md'), '# trapped\n');
  for (const [file, text] of Object.entries(options.files ?? {})) {
    mkdirSync(join(repo, file, '..'), { recursive: true });
    writeFileSync(join(repo, file), text);
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'init');

  for (const hook of TRAPPED_HOOKS) {
    script(join(repo, '.git', 'hooks', hook), join(markerDir, `hook-${hook}`));
    script(join(hooksPath, hook), join(markerDir, `hookspath-${hook}`));
  }
  git('config', 'core.hooksPath', hooksPath);
  git('config', 'core.fsmonitor', script(join(scripts, 'fsmonitor'), join(markerDir, 'fsmonitor')));
  git('config', 'core.pager', script(join(scripts, 'pager'), join(markerDir, 'pager')));
  git('config', 'core.editor', script(join(scripts, 'editor'), join(markerDir, 'editor')));
  git('config', 'sequence.editor', script(join(scripts, 'sequence-editor'), join(markerDir, 'sequence-editor')));
  git('config', 'diff.external', script(join(scripts, 'external-diff'), join(markerDir, 'external-diff')));
  git('config', 'core.sshCommand', script(join(scripts, 'ssh'), join(markerDir, 'ssh')));
  return {
    repo,
    markerDir,
    firedTraps: () => readdirSync(markerDir).sort(),
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
