/**
 * The command policy's rules, as data: the deny rules (dangerous whatever the context) and the
 * allow rules (read-only tools and the test runners and build tools an agent needs). A rule
 * matches an argv by its shape (program, subcommand, flags, arguments), never by listing
 * example commands. Operators extend both lists with argv prefixes (`MAESTRO_COMMAND_ALLOW`,
 * `MAESTRO_COMMAND_DENY`; see `parseCommandPrefixes`).
 */

/** One rule: which argvs it matches. Every field given must hold. */
export interface CommandRule {
  /** Stable name, reported with each decision. */
  readonly id: string;
  /** Why: for a deny rule, shown to whoever ran the command. */
  readonly reason: string;
  /** The program (basename of argv[0]); an entry ending in `*` is a prefix. Absent: any program. */
  readonly programs?: readonly string[];
  /** The first argument that is not a global option (git: after `-C <dir>`) is one of these. */
  readonly subcommands?: readonly string[];
  /** At least one argument is one of these flags (`-rf` counts as `-r` and `-f`; `--out=x` as `--out`). */
  readonly withAnyFlag?: readonly string[];
  /** None of the arguments is one of these flags (for allow rules: the options that write or execute). */
  readonly withoutFlags?: readonly string[];
  /** None of the arguments before the subcommand is one of these flags (`npx --yes jest`, not `npx tsc -p .`). */
  readonly withoutLeadingFlags?: readonly string[];
  /** At least one argument (the program included) matches this pattern. */
  readonly anyArgMatches?: string;
  /** Every argument after the program (and subcommand) matches this pattern. */
  readonly everyArgMatches?: string;
  /** The arguments after the program, joined by single spaces, match this pattern in full. */
  readonly argsMatch?: string;
  /** An argv prefix (operator-configured rules): the leading elements equal these, the first by basename. */
  readonly prefix?: readonly string[];
}

/** Global options git takes before its subcommand that need a value. `-c` is not one: it is never allowed. */
export const GIT_GLOBAL_OPTIONS_WITH_VALUE = ['-C'] as const;

/** Programs that run shell scripts given with `-c` / `-lc`; the policy splits their script. */
export const SHELL_PROGRAMS = ['bash', 'sh', 'zsh', 'dash'] as const;

/** Programs that fetch from the network, and programs that execute what they are fed. */
export const FetchAndExecute = {
  fetchers: ['curl', 'wget', 'fetch'],
  executors: ['sh', 'bash', 'zsh', 'dash', 'python', 'python3', 'node', 'perl', 'ruby', 'php', 'sudo'],
} as const;

/** Refused whatever the allow rules say; checked first, on every segment of a script. */
export const DEFAULT_DENY_RULES = [
  { id: 'privilege-escalation', programs: ['sudo', 'su', 'doas', 'pkexec', 'runuser'], reason: 'runs a command as another user' },
  {
    id: 'recursive-or-forced-removal',
    programs: ['rm'],
    withAnyFlag: ['-r', '-R', '-f', '--recursive', '--force'],
    reason: 'removes files recursively or without asking',
  },
  { id: 'git-reset', programs: ['git'], subcommands: ['reset'], reason: 'git reset moves the branch and can discard work' },
  {
    id: 'git-force-push',
    programs: ['git'],
    subcommands: ['push'],
    withAnyFlag: ['-f', '--force', '--force-with-lease', '--force-if-includes', '--mirror', '-d', '--delete', '--prune'],
    reason: 'a forced or deleting push rewrites or removes remote history',
  },
  { id: 'git-force-push-refspec', programs: ['git'], subcommands: ['push'], anyArgMatches: '^\\+', reason: 'a +refspec push rewrites remote history' },
  { id: 'git-clean', programs: ['git'], subcommands: ['clean'], withAnyFlag: ['-f', '--force'], reason: 'git clean -f deletes untracked files' },
  { id: 'git-branch-force-delete', programs: ['git'], subcommands: ['branch'], withAnyFlag: ['-D'], reason: 'deletes a branch even when unmerged' },
  {
    id: 'git-discard-changes',
    programs: ['git'],
    subcommands: ['checkout', 'switch', 'restore', 'stash'],
    withAnyFlag: ['-f', '--force', '--discard-changes', '--hard'],
    reason: 'discards uncommitted changes',
  },
  { id: 'git-stash-drop', programs: ['git'], subcommands: ['stash'], anyArgMatches: '^(drop|clear)$', reason: 'drops stashed work' },
  {
    id: 'git-hooks',
    anyArgMatches: '(^|/)\\.git/hooks(/|$)',
    reason: 'writes or runs git hooks, which execute on later git commands',
  },
  {
    id: 'git-exec-config',
    anyArgMatches: '(core\\.(hookspath|fsmonitor|sshcommand|pager|editor|askpass)|credential\\.helper|alias\\.)',
    reason: 'sets git configuration that runs programs',
  },
  { id: 'disk-destruction', programs: ['mkfs*', 'wipefs', 'shred', 'fdisk', 'sfdisk', 'parted'], reason: 'destroys disks or file contents' },
  { id: 'raw-device-write', programs: ['dd'], anyArgMatches: '^of=/dev/', reason: 'writes a raw device' },
  { id: 'system-power', programs: ['shutdown', 'reboot', 'halt', 'poweroff', 'init'], reason: 'stops or restarts the machine' },
  {
    id: 'recursive-permission-change',
    programs: ['chmod', 'chown', 'chgrp'],
    withAnyFlag: ['-R', '--recursive'],
    reason: 'changes permissions or owners recursively',
  },
] as const satisfies readonly CommandRule[];

/** Options of read-only tools that write files or execute programs. */
const FIND_WRITING = ['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fls', '-fprint', '-fprint0', '-fprintf'];
const RG_EXECUTING = ['--pre', '--hostname-bin', '-z', '--search-zip'];
const GIT_WRITING = ['--output', '-o', '--ext-diff', '--textconv', '--exec', '--upload-pack'];
const NPX_FETCHING = ['-y', '--yes', '-p', '--package', '-c', '--call'];

/** Allowed when no deny rule matched: read-only tools (as Codex's known-safe list) and test/build runners. */
export const DEFAULT_ALLOW_RULES = [
  {
    id: 'read-only-tool',
    programs: ['ls', 'pwd', 'echo', 'cat', 'head', 'tail', 'wc', 'grep', 'egrep', 'fgrep', 'nl', 'true', 'false', 'which', 'file', 'stat',
      'tree', 'sort', 'uniq', 'cut', 'tr', 'diff', 'cmp', 'du', 'date', 'uname', 'whoami', 'id', 'basename', 'dirname', 'realpath',
      'readlink', 'printf', 'test', 'expr', 'seq', 'sha256sum', 'md5sum', 'paste', 'column', 'rev'],
    withoutFlags: ['-o', '--output', '--output-file'],
    reason: 'reads files or prints text',
  },
  { id: 'base64', programs: ['base64'], withoutFlags: ['-o', '--output'], reason: 'encodes or decodes to standard output' },
  { id: 'find', programs: ['find'], withoutFlags: FIND_WRITING, reason: 'lists files without executing or writing' },
  { id: 'ripgrep', programs: ['rg'], withoutFlags: RG_EXECUTING, reason: 'searches files without running preprocessors' },
  { id: 'sed-print', programs: ['sed'], argsMatch: '-n \\d+(,\\d+)?p( [^-][^ ]*)*', reason: 'prints a range of lines' },
  {
    id: 'git-read',
    programs: ['git'],
    subcommands: ['status', 'log', 'diff', 'show', 'rev-parse', 'ls-files', 'blame', 'grep', 'shortlog', 'describe'],
    withoutFlags: GIT_WRITING,
    reason: 'reads the repository',
  },
  {
    id: 'git-branch-list',
    programs: ['git'],
    subcommands: ['branch'],
    everyArgMatches: '^(--show-current|-a|--all|-r|--remotes|-v|-vv|--verbose|--list|--no-color)$',
    reason: 'lists branches',
  },
  {
    id: 'package-script',
    programs: ['npm', 'pnpm', 'yarn', 'bun'],
    subcommands: ['test', 't', 'run', 'run-script', 'build', 'lint', 'exec'],
    reason: "runs the repository's own scripts",
  },
  // Not restricted further: an agent that can write files runs any code through `node file.js`
  // anyway, so refusing `node -e` would add friction, not safety. Containing what the code does
  // is the sandbox's job, not the policy's.
  { id: 'node-script', programs: ['node'], reason: 'runs a script or the test runner' },
  {
    id: 'npx-tool',
    programs: ['npx'],
    subcommands: ['jest', 'vitest', 'tsc', 'mocha', 'eslint', 'prettier', 'ava', 'tap', 'playwright', 'tsx', 'ts-node'],
    withoutLeadingFlags: NPX_FETCHING,
    reason: 'runs an installed test or build tool',
  },
  { id: 'test-runner', programs: ['jest', 'vitest', 'tsc', 'mocha', 'pytest', 'eslint'], reason: 'runs tests or type-checks' },
  { id: 'python-test', programs: ['python', 'python3'], argsMatch: '-m (pytest|unittest|mypy|compileall)( .*)?', reason: 'runs Python tests' },
  { id: 'go-tool', programs: ['go'], subcommands: ['test', 'build', 'vet', 'fmt'], withoutFlags: ['-exec', '-toolexec'], reason: 'builds or tests Go code' },
  { id: 'cargo-tool', programs: ['cargo'], subcommands: ['test', 'build', 'check', 'clippy', 'fmt'], reason: 'builds or tests Rust code' },
  { id: 'make-target', programs: ['make'], withoutFlags: ['--eval', '-E', '-f', '--file', '--makefile'], reason: "runs the repository's Makefile" },
  { id: 'maven-test', programs: ['mvn'], subcommands: ['test', 'verify', 'compile'], reason: 'builds or tests Java code' },
] as const satisfies readonly CommandRule[];
