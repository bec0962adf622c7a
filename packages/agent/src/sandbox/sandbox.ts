/**
 * The sandbox port: how a command the agent or the test gate chose is confined before
 * `runCommand` spawns it. Adapters: `BubblewrapSandbox` (the real one), `UnsandboxedRunner`
 * (an operator's explicit opt-out, loud about it) and `RefusingSandbox` (the sandbox could not be
 * had and no opt-out was given: every command is refused).
 */
import { OperationalError } from '@maestro/runtime';
import type { DiskFloor } from './disk-floor.js';
import type { SandboxLimits } from './sandbox-defaults.js';

/** Stable codes of sandbox failures, as they appear in observations and logs. */
export const SandboxErrorCodes = {
  /** No sandbox could be had (bwrap missing or failing) and unsandboxed commands were not allowed. */
  unavailable: 'SANDBOX_UNAVAILABLE',
  /** The sandbox exists but could not be set up for this command (its worktree is gone, a cgroup could not be made). */
  setupFailed: 'SANDBOX_SETUP_FAILED',
  /** The worktree's filesystem has less free space than the sandbox's floor: not started, or ended while it ran. */
  diskLow: 'SANDBOX_DISK_LOW',
} as const;
/** One of {@link SandboxErrorCodes}. */
export type SandboxErrorCode = (typeof SandboxErrorCodes)[keyof typeof SandboxErrorCodes];

/** Thrown by {@link Sandbox.prepare} when the command must not (or cannot) run; `code` says which. */
export class SandboxError extends OperationalError {
  constructor(code: SandboxErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** What one command needs from the sandbox. */
export interface SandboxRequest {
  /** Absolute working directory, inside `worktree`. */
  cwd: string;
  /** Absolute root of the worktree: the only directory the command may write. */
  worktree: string;
  /** The command's whole environment (already scrubbed of credentials). */
  env: Record<string, string>;
  /** Overrides some of the sandbox's limits for this command. @default the sandbox's limits */
  limits?: Partial<SandboxLimits>;
}

/** A command ready to spawn: what to run instead of the original argv, with which environment. */
export interface PreparedCommand {
  /** The argv to spawn (for bubblewrap: `bwrap … -- prlimit … -- <argv>`). */
  argv: string[];
  /** The environment to spawn it with. */
  env: Record<string, string>;
  /**
   * A warning every observation of this command must carry (an unsandboxed run says so).
   * Absent for a sandboxed command.
   */
  notice?: string;
  /** The free space the worktree's filesystem must keep while the command runs (`runCommand` watches it and ends the command below it). */
  diskFloor?: DiskFloor;
  /** Called once after the command ended (removes its cgroups); never rejects. */
  cleanup(): Promise<void>;
}

/** How each limit is enforced, for the start log and the probe's answer. */
export interface LimitEnforcement {
  limit: keyof SandboxLimits | 'wallClock';
  /** The value in its unit (seconds, bytes, count), or undefined when not enforced. */
  value: number | undefined;
  /** How: `cgroup v1 pids.max`, `RLIMIT_CPU (prlimit)`, `not enforced: …`. */
  how: string;
}

/** Confines the commands an agent or the test gate runs. */
export interface Sandbox {
  /** `bubblewrap`, `unsandboxed` or `refusing`: for logs and observations. */
  readonly kind: 'bubblewrap' | 'unsandboxed' | 'refusing';
  /**
   * Turns `argv` into the command to spawn. Throws {@link SandboxError} when the command must not
   * run (`SANDBOX_UNAVAILABLE`, `SANDBOX_DISK_LOW`) or the sandbox cannot be set up for it
   * (`SANDBOX_SETUP_FAILED`).
   */
  prepare(argv: readonly string[], request: SandboxRequest): Promise<PreparedCommand>;
  /** How the limits are enforced (one entry per limit). */
  enforcement(): LimitEnforcement[];
}
