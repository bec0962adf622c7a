/**
 * The command sandbox: a port (`Sandbox`) and its adapters — `BubblewrapSandbox` (real),
 * `UnsandboxedRunner` (an explicit opt-out) and `RefusingSandbox` (none could be had) — with the
 * probe that decides at start and the limits' defaults.
 *
 * @example
 * const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: false, logger });
 * await runCommand(['node', '--test'], { cwd: worktree, worktree, sandbox });
 */
export { SandboxErrorCodes, SandboxError, type SandboxErrorCode, type Sandbox, type SandboxRequest, type PreparedCommand, type LimitEnforcement } from './sandbox.js';
export { SandboxDefaults, resolveSandboxLimits, type SandboxLimits } from './sandbox-defaults.js';
export {
  BubblewrapSandbox,
  BubblewrapDefaults,
  planProcessLimit,
  ALLOW_UNLIMITED_PROCESSES_VARIABLE,
  type BubblewrapSandboxOptions,
  type ProcessLimitPlan,
} from './bubblewrap-sandbox.js';
export { UnsandboxedRunner } from './unsandboxed-runner.js';
export { RefusingSandbox } from './refusing-sandbox.js';
export { probeSandbox, type SandboxProbe } from './probe-sandbox.js';
export { createCommandSandbox, SandboxModes, type SandboxMode, type CommandSandboxOptions } from './command-sandbox.js';
export { sandboxEnv, createSandboxFromSettings, parseSandboxReadPaths, type SandboxSettings } from './sandbox-settings.js';
