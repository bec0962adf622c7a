/**
 * How CodeMaestro runs git on a repository it does not trust: a fixed prefix of `-c` overrides
 * and an environment that keep the target repository's hooks and config from running anything
 * on our commands. Every `git` we spawn (executor, orchestrator, agent tools, CLI) goes through
 * {@link safeGitArgs} and {@link safeGitEnv}. Command-line `-c` beats every config file, so the
 * repository's own `core.hooksPath`, `core.fsmonitor`, `core.pager` … are simply overridden.
 * What one `-c` cannot switch off (filter, merge and diff drivers the repository defines and
 * `.gitattributes` selects) is detected by {@link findUnsafeGitConfig}; such a repository is
 * refused before any other git command runs on it.
 *
 * @example
 * spawn('git', safeGitArgs(['status', '--porcelain']), { cwd: repo, env: safeGitEnv(process.env) });
 */
import { spawnSync } from 'node:child_process';

/**
 * The `-c` overrides, each with the reason it is there:
 * - `core.hooksPath=/dev/null`: no hook runs (`pre-commit`, `post-checkout`, `post-merge`,
 *   `reference-transaction` …), neither from `.git/hooks` nor from a configured hooks path.
 * - `core.fsmonitor=false`: a configured fsmonitor is a command git runs on status/diff/add.
 * - `core.sshCommand=ssh`, `core.gitProxy=`, `protocol.ext.allow=never`: no configured command
 *   stands in for ssh or a proxy, and `ext::` URLs (a shell command) are refused.
 * - `core.pager=cat`, `core.editor=true`, `sequence.editor=true`: no configured program reads
 *   our output or edits a message; `true` accepts the message git prepared.
 * - `core.askPass=`, `credential.helper=`: no configured program is asked for credentials (an
 *   empty helper clears the list; an empty askpass is ignored by git).
 * - `diff.external=`: no external diff program ({@link safeGitArgs} also adds
 *   `--no-ext-diff --no-textconv` to diff/log/show, for per-path drivers).
 * - `commit.gpgSign=false`, `tag.gpgSign=false`, `merge.verifySignatures=false`,
 *   `log.showSignature=false`: the signing program (`gpg.program`, which the repository could
 *   point anywhere) is never started.
 * - `core.quotePath=false`: paths read as written (not a safety setting; every caller wanted it).
 * `core.untrackedCache` is left alone: it stores data in the index and runs nothing.
 */
export const SAFE_GIT_CONFIG: readonly string[] = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.sshCommand=ssh',
  'core.gitProxy=',
  'protocol.ext.allow=never',
  'core.pager=cat',
  'core.editor=true',
  'sequence.editor=true',
  'core.askPass=',
  'credential.helper=',
  'diff.external=',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'merge.verifySignatures=false',
  'log.showSignature=false',
  'core.quotePath=false',
];

/** Flags for `diff`, `log`, `show` and `format-patch`: no external diff driver, no textconv filter. */
export const SAFE_DIFF_FLAGS: readonly string[] = ['--no-ext-diff', '--no-textconv'];

/**
 * The `safe.directory` entries of the machine's system and global git config, read once per
 * process. Our commands ignore those files (see {@link safeGitEnv}), yet the operator's
 * `safe.directory` (the image sets `*` in the system config for a shared volume other uids
 * filled) must keep working: it is passed on the command line, which git also trusts for it.
 * Reading config runs nothing.
 */
let protectedSafeDirectories: readonly string[] | undefined;

function operatorSafeDirectories(): readonly string[] {
  if (protectedSafeDirectories !== undefined) return protectedSafeDirectories;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_'))) as Record<string, string>;
  const read = (scope: string): string[] => {
    const run = spawnSync('git', ['config', scope, '--get-all', '-z', 'safe.directory'], { encoding: 'utf8', env, timeout: 10_000 });
    return run.status === 0 ? run.stdout.split('\0').filter((v) => v !== '') : [];
  };
  protectedSafeDirectories = [...new Set([...read('--system'), ...read('--global')])];
  return protectedSafeDirectories;
}

/** Subcommands that can show content through a diff driver, so get {@link SAFE_DIFF_FLAGS}. */
const DIFF_SHOWING = new Set(['diff', 'log', 'show', 'format-patch', 'whatchanged']);

/**
 * `git` arguments with the hardening prefix: `-c k=v …` then `args`, with
 * {@link SAFE_DIFF_FLAGS} right after a `diff`/`log`/`show` subcommand (git's own leading
 * options in `args`, such as `-C <dir>`, `-c <k=v>` or `--literal-pathspecs`, are skipped to
 * find it).
 *
 * @example
 * safeGitArgs(['-C', repo, 'diff', 'HEAD']); // ['-c', 'core.hooksPath=/dev/null', …, '-C', repo, 'diff', '--no-ext-diff', '--no-textconv', 'HEAD']
 */
export function safeGitArgs(args: readonly string[]): string[] {
  let at = 0;
  // Git's own options before the subcommand: `-C <dir>` and `-c <k=v>` take a value.
  while (at < args.length && args[at]!.startsWith('-')) at += args[at] === '-C' || args[at] === '-c' ? 2 : 1;
  const subcommand = args[at];
  const rest = subcommand !== undefined && DIFF_SHOWING.has(subcommand) ? [...args.slice(0, at + 1), ...SAFE_DIFF_FLAGS, ...args.slice(at + 1)] : [...args];
  const safeDirectories = operatorSafeDirectories().flatMap((dir) => ['-c', `safe.directory=${dir}`]);
  return [...SAFE_GIT_CONFIG.flatMap((setting) => ['-c', setting]), ...safeDirectories, ...rest];
}

/** Options for {@link safeGitEnv}. */
export interface SafeGitEnvOptions {
  /**
   * The command only reads: `GIT_OPTIONAL_LOCKS=0` keeps e.g. `status` from refreshing the
   * index under a concurrent writer. @default false
   */
  readOnly?: boolean;
}

/**
 * The environment for our git commands: `base` without any inherited `GIT_*` variable (they can
 * redirect the repository — `GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, `GIT_EXEC_PATH` — or
 * add config and commands — `GIT_CONFIG_PARAMETERS`, `GIT_CONFIG_COUNT`, `GIT_SSH_COMMAND`,
 * `GIT_ASKPASS`, `GIT_EXTERNAL_DIFF`), without `SSH_ASKPASS`, then: no system config, an empty
 * global config (`/dev/null`: the machine user's `~/.gitconfig` is not ours to trust either;
 * commits fall back to our own identity; the operator's `safe.directory` entries are carried
 * over by {@link safeGitArgs}), no terminal prompt, `cat` as pager and `true` as editor.
 */
export function safeGitEnv(base: Readonly<Record<string, string | undefined>>, options: SafeGitEnvOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || name.startsWith('GIT_') || name === 'SSH_ASKPASS') continue;
    out[name] = value;
  }
  return { ...out, ...safeGitEnvOverrides(options) };
}

/**
 * Only the variables {@link safeGitEnv} sets, for runners that build their own environment
 * from an allow-list (which already drops inherited `GIT_*` variables).
 */
export function safeGitEnvOverrides(options: SafeGitEnvOptions = {}): Record<string, string> {
  return {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    GIT_EDITOR: 'true',
    ...(options.readOnly === true ? { GIT_OPTIONAL_LOCKS: '0' } : {}),
  };
}

/**
 * Arguments that list the repository's config as git itself reads it (local and worktree
 * files, following `include`/`includeIf`), NUL-separated, for {@link findUnsafeGitConfig}.
 * Run them through {@link safeGitArgs} with {@link safeGitEnv} (no system or global config):
 * reading config executes nothing.
 */
export const GIT_CONFIG_LIST_ARGS: readonly string[] = ['config', '--list', '--includes', '-z'];

/**
 * Config keys that make git run a command no `-c` of ours can switch off: filter drivers
 * (`filter.<x>.clean/smudge/process`, run on checkout and add), merge drivers
 * (`merge.<x>.driver`, run on merge), and diff drivers (`diff.<x>.textconv/command`, run on
 * diff), each selected per path by `.gitattributes`.
 */
const UNSAFE_KEY = /^(filter\..+\.(clean|smudge|process)|merge\..+\.driver|diff\..+\.(textconv|command))$/i;

/** Keys that would run a command but are overridden by {@link SAFE_GIT_CONFIG}; noted, not refused. */
const OVERRIDDEN_KEY = /^core\.(hookspath|fsmonitor|pager|editor|sshcommand|askpass|gitproxy)$|^sequence\.editor$|^diff\.external$|^credential\..*helper$|^gpg\./i;

/** What a repository's config holds that would run a command. */
export interface GitConfigFindings {
  /** Keys that make the repository unsafe for our git commands (refuse it). */
  unsafe: string[];
  /** Keys that would run a command but our `-c` overrides neutralise (worth a debug log). */
  overridden: string[];
}

/**
 * Reads the output of `git config --list -z` ({@link GIT_CONFIG_LIST_ARGS}: `key\nvalue\0`
 * records) and returns the keys that would run commands. The `-c` overrides of our own command
 * line appear in that output too and are skipped.
 */
export function findUnsafeGitConfig(listOutput: string): GitConfigFindings {
  const unsafe = new Set<string>();
  const overridden = new Set<string>();
  // git prints section and key names lower-cased.
  const ours = new Set(SAFE_GIT_CONFIG.map((setting) => setting.replace(/^[^=]+/, (key) => key.toLowerCase())));
  for (const record of listOutput.split('\0')) {
    if (record === '') continue;
    const newline = record.indexOf('\n');
    const key = newline === -1 ? record : record.slice(0, newline);
    const value = newline === -1 ? '' : record.slice(newline + 1);
    if (ours.has(`${key.toLowerCase()}=${value}`)) continue;
    if (UNSAFE_KEY.test(key)) unsafe.add(key);
    else if (OVERRIDDEN_KEY.test(key)) overridden.add(key);
  }
  return { unsafe: [...unsafe], overridden: [...overridden] };
}

/** `repo_path: … defines filter.lfs.smudge …` — the refusal text for {@link findUnsafeGitConfig}'s keys. */
export function unsafeGitConfigProblem(repoPath: string, keys: readonly string[]): string {
  return `${repoPath} is refused: its git config defines ${keys.join(', ')}, a command git would run on checkout, add, merge or diff; remove ${keys.length === 1 ? 'that key' : 'those keys'} (git config --unset) and submit again`;
}
