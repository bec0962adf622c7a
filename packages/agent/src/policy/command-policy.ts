/**
 * The command policy: decides, from the argv alone, whether a command an agent (`exec`) or the
 * test gate (`testCommand`) wants to run may run. Deny rules first (dangerous commands, found in
 * every segment of a shell script, through wrappers like `env` or `timeout`), then allow rules
 * (read-only tools, test runners, build tools), then the default: deny, naming the command.
 * A `bash -lc` / `sh -c` script is allowed only when it is a plain list of simple commands
 * (`&&`, `||`, `;`, `|`) each of which is allowed on its own.
 *
 * @example
 * const policy = createCommandPolicy({ allow: parseCommandPrefixes('make lint') });
 * policy.evaluate(['npm', 'test']);           // { decision: 'allow', rule: 'package-script', … }
 * policy.evaluate(['bash', '-lc', 'rm -rf /']); // { decision: 'deny', rule: 'recursive-or-forced-removal', … }
 */
import {
  DEFAULT_ALLOW_RULES,
  DEFAULT_DENY_RULES,
  FetchAndExecute,
  GIT_GLOBAL_OPTIONS_WITH_VALUE,
  SHELL_PROGRAMS,
  type CommandRule,
} from './command-rules.js';
import { splitShellScript } from './shell-script.js';

/** Error codes of the command policy. */
export const CommandPolicyErrorCodes = {
  /** A command the policy refused; the message carries the rule and the reason. */
  COMMAND_DENIED: 'COMMAND_DENIED',
  /** `MAESTRO_COMMAND_ALLOW` / `MAESTRO_COMMAND_DENY` could not be read. */
  INVALID_COMMAND_PATTERN: 'INVALID_COMMAND_PATTERN',
} as const;
export type CommandPolicyErrorCode = (typeof CommandPolicyErrorCodes)[keyof typeof CommandPolicyErrorCodes];

/** What the policy decided about one argv, and by which rule. */
export interface CommandDecision {
  decision: 'allow' | 'deny';
  /** The rule's id (`default-deny` when no rule matched). */
  rule: string;
  /** Why, in words a user or an agent can act on. */
  reason: string;
}

/** Rules added to the defaults, e.g. from configuration. */
export interface CommandPolicyOptions {
  /** Extra allow rules (checked after every deny rule). @default [] */
  allow?: readonly CommandRule[];
  /** Extra deny rules (checked with the default deny rules, before any allow rule). @default [] */
  deny?: readonly CommandRule[];
}

/** Programs that run another command given as their arguments; deny rules look through them. */
const WRAPPERS = new Set(['env', 'timeout', 'nice', 'nohup', 'command', 'exec', 'time', 'xargs', 'stdbuf', 'ionice', 'setsid', 'chroot', 'unshare', 'flock']);
/** Where an allowed program may be named by absolute path; any other path (e.g. `./ls`) is not the tool the rule means. */
const SYSTEM_BIN_DIRS = ['/bin/', '/usr/bin/', '/usr/local/bin/'];
/** Nested shells deeper than this are refused rather than read. */
const MAX_SCRIPT_DEPTH = 4;

/** Evaluates argvs against deny rules, then allow rules, then denies by default. */
export class CommandPolicy {
  readonly #deny: readonly CommandRule[];
  readonly #allow: readonly CommandRule[];

  constructor(options: CommandPolicyOptions = {}) {
    this.#deny = [...DEFAULT_DENY_RULES, ...(options.deny ?? [])];
    this.#allow = [...DEFAULT_ALLOW_RULES, ...(options.allow ?? [])];
  }

  /** Decides about one argv (see the module doc for the order). */
  evaluate(argv: readonly string[]): CommandDecision {
    return this.#evaluate(argv, 0);
  }

  #evaluate(argv: readonly string[], depth: number): CommandDecision {
    if (argv.length === 0 || argv[0] === '') return deny('empty-command', 'the command is empty');
    const denied = this.#findDeny(argv, depth);
    if (denied !== undefined) return denied;
    const script = shellScriptOf(argv);
    if (script !== undefined) return this.#evaluateScript(script, depth);
    if (isPathToNonSystemProgram(argv[0] as string)) {
      return deny('default-deny', `${describe(argv)} names a program by a path outside the system directories; no allow rule covers it`);
    }
    const allowed = this.#allow.find((rule) => matches(rule, argv, 'allow'));
    if (allowed !== undefined) return { decision: 'allow', rule: allowed.id, reason: allowed.reason };
    return deny('default-deny', `${describe(argv)} is not on the allow list (read-only tools, test runners, build tools); ask an operator to add it to MAESTRO_COMMAND_ALLOW if it is needed`);
  }

  /** The first deny rule matching the argv, a wrapped command, or any segment of a script. */
  #findDeny(argv: readonly string[], depth: number): CommandDecision | undefined {
    const rule = this.#deny.find((r) => matches(r, argv, 'deny'));
    if (rule !== undefined) return deny(rule.id, `${describe(argv)}: ${rule.reason}`);
    for (const wrapped of wrappedCommands(argv)) {
      const found = this.#findDeny(wrapped, depth);
      if (found !== undefined) return found;
    }
    const script = shellScriptOf(argv);
    if (script === undefined) return undefined;
    if (depth >= MAX_SCRIPT_DEPTH) return deny('shell-nesting', 'shell scripts nested this deep are not read');
    const parsed = splitShellScript(script);
    const substitutes = parsed.complexities.some((c) => /substitution|backticks/.test(c));
    for (const [i, segment] of parsed.segments.entries()) {
      const found = this.#findDeny(segment, depth + 1);
      if (found !== undefined) return found;
      if (isOneOf(segment[0], FetchAndExecute.fetchers)) {
        const feedsExecutor = parsed.pipedIntoNext[i] === true && isOneOf(parsed.segments[i + 1]?.[0], FetchAndExecute.executors);
        if (feedsExecutor || substitutes) {
          return deny('fetch-and-execute', `${describe(segment)}: downloads something and executes it`);
        }
      }
    }
    return undefined;
  }

  #evaluateScript(script: string, depth: number): CommandDecision {
    const parsed = splitShellScript(script);
    if (parsed.malformed) return deny('shell-script-unreadable', 'the shell script has an unterminated quote');
    if (parsed.complexities.length > 0) {
      return deny('shell-script-complex', `the shell script uses ${parsed.complexities.join(', ')}; only plain commands joined by && || ; | are allowed`);
    }
    if (parsed.segments.length === 0) return deny('empty-command', 'the shell script is empty');
    const rules: string[] = [];
    for (const segment of parsed.segments) {
      const decision = this.#evaluate(segment, depth + 1);
      if (decision.decision === 'deny') return { ...decision, reason: `in the shell script: ${decision.reason}` };
      rules.push(decision.rule);
    }
    return { decision: 'allow', rule: 'shell-script', reason: `every command of the script is allowed (${[...new Set(rules)].join(', ')})` };
  }
}

/** The policy with the default rules only. */
export const defaultCommandPolicy = new CommandPolicy();

/** Creates a policy with the default rules plus the given ones. */
export function createCommandPolicy(options: CommandPolicyOptions = {}): CommandPolicy {
  return new CommandPolicy(options);
}

/** A command the policy refused, as one line: code, rule, reason. */
export function formatDenial(decision: CommandDecision): string {
  return `${CommandPolicyErrorCodes.COMMAND_DENIED}: refused by the command policy (rule ${decision.rule}): ${decision.reason}`;
}

function deny(rule: string, reason: string): CommandDecision {
  return { decision: 'deny', rule, reason };
}

function describe(argv: readonly string[]): string {
  const text = argv.join(' ');
  return `"${text.length > 120 ? `${text.slice(0, 117)}...` : text}"`;
}

function basename(program: string): string {
  return program.slice(program.lastIndexOf('/') + 1);
}

function isOneOf(program: string | undefined, names: readonly string[]): boolean {
  return program !== undefined && names.includes(basename(program));
}

function isPathToNonSystemProgram(program: string): boolean {
  if (!program.includes('/')) return false;
  return !SYSTEM_BIN_DIRS.some((dir) => program.startsWith(dir) && !program.slice(dir.length).includes('/'));
}

/** The script of `bash -c <script>` / `bash -lc <script>` (exactly that shape), else undefined. */
function shellScriptOf(argv: readonly string[]): string | undefined {
  if (argv.length !== 3 || !isOneOf(argv[0], SHELL_PROGRAMS)) return undefined;
  return ['-c', '-lc', '-cl'].includes(argv[1] as string) ? argv[2] : undefined;
}

/**
 * The commands a wrapper (`env X=1 cmd`, `timeout -s KILL 10 cmd`, `nice -n 5 cmd`) might run:
 * every tail of its arguments that starts with a word. Over-reading is safe here: these are only
 * searched for dangerous commands, and a wrapper is never on the allow list.
 */
function wrappedCommands(argv: readonly string[]): string[][] {
  if (!WRAPPERS.has(basename(argv[0] as string))) return [];
  const tails: string[][] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-') && !arg.includes('=')) tails.push(argv.slice(i));
  }
  return tails;
}

/** The flags an argument stands for: `--out=x` → `--out`; `-rf` → `-rf`, `-r`, `-f`. */
function flagsOf(arg: string): string[] {
  if (!arg.startsWith('-') || arg === '-' || arg === '--') return [];
  const name = arg.split('=')[0] as string;
  if (arg.startsWith('--')) return [name];
  return [name, ...[...arg.slice(1)].map((c) => `-${c}`)];
}

/** The subcommand and the arguments after it; git's global options before it are skipped. */
function splitSubcommand(argv: readonly string[]): { subcommand: string | undefined; before: string[]; after: string[]; unsafeGlobals: boolean } {
  const program = basename(argv[0] as string);
  let unsafeGlobals = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) return { subcommand: arg, before: argv.slice(1, i), after: argv.slice(i + 1), unsafeGlobals };
    if (program === 'git') {
      if ((GIT_GLOBAL_OPTIONS_WITH_VALUE as readonly string[]).includes(arg)) {
        i++;
        continue;
      }
      unsafeGlobals = true;
      if (['-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--config-env'].includes(arg)) i++;
    }
  }
  return { subcommand: undefined, before: argv.slice(1), after: [], unsafeGlobals };
}

function programMatches(patterns: readonly string[], program: string): boolean {
  const name = basename(program);
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/** Whether every condition the rule gives holds for the argv. */
function matches(rule: CommandRule, argv: readonly string[], kind: 'allow' | 'deny'): boolean {
  if (rule.prefix !== undefined) {
    const [first, ...rest] = rule.prefix;
    if (argv.length < rule.prefix.length || first === undefined || basename(argv[0] as string) !== basename(first)) return false;
    if (!rest.every((word, i) => argv[i + 1] === word)) return false;
  }
  if (rule.programs !== undefined && !programMatches(rule.programs, argv[0] as string)) return false;
  const args = argv.slice(1);
  let checked = args;
  let leading = args;
  if (rule.subcommands !== undefined) {
    const split = splitSubcommand(argv);
    if (split.subcommand === undefined || !rule.subcommands.includes(split.subcommand)) return false;
    // An allow rule never applies through git's global options (other than -C): `-c` can run programs.
    if (split.unsafeGlobals && kind === 'allow') return false;
    checked = split.after;
    leading = split.before;
  }
  if (rule.withoutLeadingFlags !== undefined && rule.withoutLeadingFlags.some((f) => leading.flatMap(flagsOf).includes(f))) return false;
  const flags = args.flatMap(flagsOf);
  if (rule.withAnyFlag !== undefined && !rule.withAnyFlag.some((f) => flags.includes(f))) return false;
  if (rule.withoutFlags !== undefined && rule.withoutFlags.some((f) => flags.includes(f))) return false;
  if (rule.anyArgMatches !== undefined) {
    const pattern = new RegExp(rule.anyArgMatches, 'i');
    if (!argv.some((arg) => pattern.test(arg))) return false;
  }
  if (rule.everyArgMatches !== undefined) {
    const pattern = new RegExp(rule.everyArgMatches);
    if (!checked.every((arg) => pattern.test(arg))) return false;
  }
  if (rule.argsMatch !== undefined && !new RegExp(`^(?:${rule.argsMatch})$`).test(args.join(' '))) return false;
  return true;
}
