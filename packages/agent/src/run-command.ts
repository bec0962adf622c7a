/**
 * Running a command for a tool or for the verdict: argv only (no shell), an allow-listed
 * environment, a timeout that kills the whole process group, and a cap on captured output.
 * That alone is hygiene, not a sandbox; with a `sandbox` (see `sandbox/`) the command is
 * confined by it: its worktree the only writable place, no network, its own PID namespace,
 * limits on CPU, processes, memory and file size. Every command is spawned here. While it runs,
 * the process is recorded (pid and start time) in its repository's registry (`pid-registry.ts`),
 * so one that outlives a crashed caller can be found and stopped later by preflight, by the id
 * we recorded.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { recordStartedProcess } from './pid-registry.js';
import { watchDiskFloor } from './sandbox/disk-floor.js';
import { SandboxError, SandboxErrorCodes, type PreparedCommand, type Sandbox, type SandboxErrorCode } from './sandbox/sandbox.js';

/** Options for {@link runCommand}. */
export interface RunCommandOptions {
  /** Absolute working directory (already confined by the caller). */
  cwd: string;
  /** Kill the process group after this long. @default 120000 */
  timeoutMs?: number;
  /** Characters of output kept (the start and, mostly, the end). @default 32000 */
  maxOutputChars?: number;
  /** Aborting kills the process group. */
  signal?: AbortSignal;
  /**
   * Variables the caller hands to the command explicitly, passed as they are on top of the
   * allow-listed part of `process.env` (see {@link scrubEnvironment}); `undefined` values are
   * dropped. Only put here what a command the model chose may read. @default {}
   */
  env?: Record<string, string | undefined>;
  /**
   * Record the started process (pid, start time, owner) in the registry under the git common
   * dir of `cwd`'s repository (`<git-common-dir>/maestro/pids/`, see `pid-registry.ts`) until it
   * exits, so a later preflight can stop it if it outlives whoever started it. Nothing is
   * recorded outside a repository or without `/proc`. @default true
   */
  recordProcess?: boolean;
  /**
   * Confines the command (see `sandbox/`). A sandbox that refuses the command (no sandbox could
   * be had) ends it unstarted with `refusal` set. @default none: hygiene only, for our own
   * fixed-argv commands (git); every command a model or a repository chose gets one
   */
  sandbox?: Sandbox;
  /** The worktree the sandbox binds writable; `cwd` is inside it. @default cwd */
  worktree?: string;
}

/** How a command ended. */
export interface CommandResult {
  /** The exit code, or null when the process was killed by a signal. */
  exitCode: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** stdout and stderr interleaved as they arrived, capped (see `truncated`). */
  output: string;
  /** Characters dropped from the middle of the output. */
  truncated: number;
  /** Set when the command could not be started (for example, not found, or refused by the sandbox). */
  spawnError?: string;
  /** Set when the sandbox refused the command or could not be set up for it; `spawnError` says the same. */
  refusal?: { code: SandboxErrorCode; message: string };
  /** A warning the command's observation must carry (it ran without a sandbox). */
  sandboxNotice?: string;
  /** Set when the sandbox ended the command while it ran (the disk fell below its floor); the process group was killed. */
  stopped?: { code: SandboxErrorCode; message: string };
}

/** Variables a command inherits from the executor's environment; everything else is dropped. */
const ALLOWED_NAMES = new Set(['PATH', 'HOME', 'LANG', 'TZ', 'TERM', 'TMPDIR', 'USER', 'SHELL', 'NODE_ENV', 'CI']);

/** True for the names {@link scrubEnvironment} keeps: the allow-list plus the locale's `LC_*`. */
function isAllowedName(name: string): boolean {
  return ALLOWED_NAMES.has(name) || /^LC_[A-Z_]+$/.test(name);
}

/**
 * Only the variables a build or test needs and that carry no credentials: `PATH`, `HOME`,
 * `LANG`, `LC_*`, `TZ`, `TERM`, `TMPDIR`, `USER`, `SHELL`, `NODE_ENV` and `CI`. An allow-list
 * rather than a list of suspicious names, because credentials hide under any name
 * (`MAESTRO_DATABASE_URL=postgres://user:pass@…`, `NATS_CREDS`, `SSH_AUTH_SOCK`, `PGPASS`).
 *
 * @example
 * scrubEnvironment({ PATH: '/usr/bin', MAESTRO_DATABASE_URL: 'postgres://u:p@db/x' }); // { PATH: '/usr/bin' }
 */
export function scrubEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && isAllowedName(name)) out[name] = value;
  }
  return out;
}

/** The environment a command gets: the allow-listed part of `base`, then the caller's explicit variables. */
function commandEnvironment(explicit: Record<string, string | undefined> | undefined, base: Record<string, string | undefined>): Record<string, string> {
  const out = scrubEnvironment(base);
  for (const [name, value] of Object.entries(explicit ?? {})) {
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Keeps the first part and the last (larger) part of a long output. */
class OutputBuffer {
  private head = '';
  private tail = '';
  private dropped = 0;
  constructor(private readonly max: number) {}

  push(text: string): void {
    const headMax = Math.floor(this.max / 8);
    if (this.head.length < headMax) {
      const take = text.slice(0, headMax - this.head.length);
      this.head += take;
      text = text.slice(take.length);
    }
    this.tail += text;
    const tailMax = this.max - headMax;
    if (this.tail.length > tailMax) {
      this.dropped += this.tail.length - tailMax;
      this.tail = this.tail.slice(this.tail.length - tailMax);
    }
  }

  get truncated(): number {
    return this.dropped;
  }

  toString(): string {
    return this.dropped === 0
      ? this.head + this.tail
      : `${this.head}\n[... ${this.dropped} characters omitted ...]\n${this.tail}`;
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Runs `argv` without a shell in its own process group (`detached`), so a timeout or abort
 * kills it together with every child it started; stray children are also killed once the
 * command exits. With a `sandbox`, the sandboxed form is spawned (and the sandbox cleaned up
 * after). Never rejects: a command that cannot start (not found, arguments `spawn` refuses such
 * as one with a NUL byte, or refused by the sandbox) is reported in `spawnError`.
 */
export async function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const [command] = argv;
  if (command === undefined || command === '') {
    return { exitCode: null, signal: null, timedOut: false, aborted: false, output: '', truncated: 0, spawnError: 'empty command' };
  }
  const env = commandEnvironment(options.env, process.env);
  if (options.sandbox === undefined) return spawnCommand(argv, argv, env, options);
  let prepared: PreparedCommand;
  try {
    prepared = await options.sandbox.prepare(argv, { cwd: options.cwd, worktree: options.worktree ?? options.cwd, env });
  } catch (err) {
    const refusal: NonNullable<CommandResult['refusal']> =
      err instanceof SandboxError ? { code: err.code as SandboxErrorCode, message: err.message } : { code: SandboxErrorCodes.setupFailed, message: err instanceof Error ? err.message : String(err) };
    return { exitCode: null, signal: null, timedOut: false, aborted: false, output: '', truncated: 0, spawnError: `${refusal.code}: ${refusal.message}`, refusal };
  }
  try {
    const result = await spawnCommand(prepared.argv, argv, prepared.env, options, prepared);
    return prepared.notice === undefined ? result : { ...result, sandboxNotice: prepared.notice };
  } finally {
    await prepared.cleanup();
  }
}

/** Spawns `spawnArgv` (the command itself or its sandboxed form; `argv` is what is recorded) and collects its output. */
function spawnCommand(
  spawnArgv: readonly string[],
  argv: readonly string[],
  env: Record<string, string>,
  options: RunCommandOptions,
  sandboxed: Pick<PreparedCommand, 'diskFloor'> = {},
): Promise<CommandResult> {
  const [command = '', ...args] = spawnArgv;
  const buffer = new OutputBuffer(options.maxOutputChars ?? 32_000);
  return new Promise((resolvePromise) => {
    let timedOut = false;
    let aborted = false;
    let stopped: CommandResult['stopped'];
    let settled = false;
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // spawn throws synchronously for arguments it cannot pass (a NUL byte: ERR_INVALID_ARG_VALUE).
      resolvePromise({ exitCode: null, signal: null, timedOut: false, aborted: false, output: '', truncated: 0, spawnError: err instanceof Error ? err.message : String(err) });
      return;
    }
    // Recorded before anything can report its exit, so the entry is always removed after it.
    const unrecord = options.recordProcess !== false && child.pid !== undefined ? recordStartedProcess(child.pid, argv, options.cwd) : undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => buffer.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => buffer.push(chunk));

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs ?? 120_000);
    const onAbort = (): void => {
      aborted = true;
      killGroup(child.pid);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const unwatchDisk =
      sandboxed.diskFloor === undefined
        ? undefined
        : watchDiskFloor(sandboxed.diskFloor, (message) => {
            stopped = { code: SandboxErrorCodes.diskLow, message: `ended by the sandbox: ${message}` };
            killGroup(child.pid);
          });

    const finish = (result: Omit<CommandResult, 'output' | 'truncated' | 'timedOut' | 'aborted' | 'stopped'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unwatchDisk?.();
      options.signal?.removeEventListener('abort', onAbort);
      resolvePromise({ ...result, timedOut, aborted, ...(stopped !== undefined ? { stopped } : {}), output: buffer.toString(), truncated: buffer.truncated });
    };

    child.on('error', (err) => {
      finish({ exitCode: null, signal: null, spawnError: err.message });
    });
    child.on('exit', (code, signal) => {
      // Children left behind would keep running (and keep our pipes open): end the group.
      killGroup(child.pid);
      unrecord?.();
      // Wait for the pipes to drain, but not forever if a child escaped the group.
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish({ exitCode: code, signal });
      }, 2_000);
      child.on('close', () => {
        clearTimeout(grace);
        finish({ exitCode: code, signal });
      });
    });
  });
}
