/**
 * The operator's sandbox settings, declared once for every service that runs repository
 * commands (the executor's agents and test gates, the orchestrator's preflight baseline): each
 * service's config names the variables (`sandboxEnv.mode('MAESTRO_SANDBOX')` …, so the
 * deployment check sees the declaration) and {@link createSandboxFromSettings} turns them into
 * the one sandbox it uses.
 */
import { ConfigError, env, type EnvVar, type Logger } from '@maestro/runtime';
import { BubblewrapDefaults } from './bubblewrap-sandbox.js';
import { createCommandSandbox, type CommandSandboxOptions } from './command-sandbox.js';
import { SandboxDefaults } from './sandbox-defaults.js';
import type { Sandbox } from './sandbox.js';

/** Splits `MAESTRO_SANDBOX_READ_PATHS` (colon-separated absolute paths); throws naming a relative one. */
export function parseSandboxReadPaths(raw: string): string[] {
  const paths = raw.split(':').map((path) => path.trim()).filter((path) => path !== '');
  for (const path of paths) if (!path.startsWith('/')) throw new Error(`expected absolute paths separated by ':', got "${path}"`);
  return paths;
}

const MIB = 1024 * 1024;

/** The sandbox variables; a service's config spreads them in under the keys of {@link SandboxSettings}. */
export const sandboxEnv = {
  mode: (name: 'MAESTRO_SANDBOX') =>
    env.oneOf(name, ['bwrap', 'none'], {
      default: 'bwrap',
      doc: 'bwrap: repository commands (agents, test gates, the preflight baseline) run in bubblewrap (probed at start; if unavailable every command is refused unless MAESTRO_ALLOW_UNSANDBOXED=true); none: no sandbox, only together with MAESTRO_ALLOW_UNSANDBOXED=true',
    }),
  allowUnsandboxed: (name: 'MAESTRO_ALLOW_UNSANDBOXED') =>
    env.bool(name, {
      default: false,
      doc: 'let repository commands run WITHOUT a sandbox when bubblewrap is unavailable or MAESTRO_SANDBOX=none (warned at start and in every command observation)',
    }),
  network: (name: 'MAESTRO_SANDBOX_NETWORK') =>
    env.oneOf(name, ['deny', 'allow'], {
      default: 'deny',
      doc: 'deny: sandboxed commands get no network (only their own loopback); allow: they share the host network (package downloads, but also every service the host reaches)',
    }),
  allowUnlimitedProcesses: (name: 'MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES') =>
    env.bool(name, {
      default: BubblewrapDefaults.allowUnlimitedProcesses,
      doc: 'let sandboxed commands run with NO process limit where none can be enforced (the service runs as uid 0, which RLIMIT_NPROC does not bind, and no cgroup v1 pids hierarchy is writable); otherwise every command is then refused (warned at start either way)',
    }),
  minFreeDiskMib: (name: 'MAESTRO_SANDBOX_MIN_FREE_DISK_MIB') =>
    env.int(name, {
      default: SandboxDefaults.minFreeDiskBytes / MIB,
      min: 1,
      max: 1024 * 1024,
      doc: "free space (MiB) the worktrees' filesystem must keep: a sandboxed command is not started below it and is ended when the free space falls below it while it runs (a floor that protects the host, not a per-command quota)",
    }),
  // The default is given at the call (`{ default: [] }`) so deploy/check-consistency.mjs, which
  // reads the config files, sees that an empty value is valid.
  readPaths: (name: 'MAESTRO_SANDBOX_READ_PATHS', options: { default: string[] }): EnvVar<string[]> => ({
    name,
    doc: 'colon-separated absolute host paths sandboxed commands may also read (toolchains outside /usr, e.g. /opt/go:/opt/jdk)',
    default: options.default,
    parse: parseSandboxReadPaths,
  }),
} as const;

/** The settings a service's config holds; each defaults as its variable does. */
export interface SandboxSettings {
  sandbox?: 'bwrap' | 'none';
  allowUnsandboxed?: boolean;
  sandboxNetwork?: 'deny' | 'allow';
  sandboxReadPaths?: readonly string[];
  sandboxAllowUnlimitedProcesses?: boolean;
  sandboxMinFreeDiskMib?: number;
}

/**
 * Checks the settings together (mode `none` needs `MAESTRO_ALLOW_UNSANDBOXED=true`: a
 * `ConfigError` naming both otherwise), probes and logs the choice (see `createCommandSandbox`;
 * `options.probe` replaces its probe, for tests).
 */
export async function createSandboxFromSettings(settings: SandboxSettings, logger: Logger, options: Pick<CommandSandboxOptions, 'probe'> = {}): Promise<Sandbox> {
  const mode = settings.sandbox ?? 'bwrap';
  const allowUnsandboxed = settings.allowUnsandboxed ?? false;
  if (mode === 'none' && !allowUnsandboxed) {
    const problem = 'MAESTRO_SANDBOX=none runs repository commands without a sandbox; it needs MAESTRO_ALLOW_UNSANDBOXED=true as well';
    throw new ConfigError([
      { variable: 'MAESTRO_SANDBOX', problem },
      { variable: 'MAESTRO_ALLOW_UNSANDBOXED', problem },
    ]);
  }
  return createCommandSandbox({
    mode,
    allowUnsandboxed,
    bubblewrap: {
      network: settings.sandboxNetwork === 'allow',
      readOnlyPaths: [...(settings.sandboxReadPaths ?? [])],
      allowUnlimitedProcesses: settings.sandboxAllowUnlimitedProcesses ?? BubblewrapDefaults.allowUnlimitedProcesses,
      ...(settings.sandboxMinFreeDiskMib !== undefined ? { limits: { minFreeDiskBytes: settings.sandboxMinFreeDiskMib * MIB } } : {}),
    },
    logger: logger.child({ component: 'sandbox' }),
    ...options,
  });
}
