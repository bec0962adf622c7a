/**
 * The operator's choice turned into the sandbox every command runs through, decided once at
 * start: bubblewrap when it works; otherwise refusing every command, unless the operator
 * explicitly allowed unsandboxed commands. Bubblewrap that can enforce no process limit (the
 * executor is root and no pids cgroup is usable) refuses every command too, unless the operator
 * explicitly allowed unlimited processes. Said loudly either way.
 */
import type { Logger } from '@maestro/runtime';
import { ALLOW_UNLIMITED_PROCESSES_VARIABLE, PROCESS_LIMIT_REMEDY, type BubblewrapSandboxOptions } from './bubblewrap-sandbox.js';
import { probeSandbox, type SandboxProbe } from './probe-sandbox.js';
import { RefusingSandbox } from './refusing-sandbox.js';
import type { Sandbox } from './sandbox.js';
import { UnsandboxedRunner } from './unsandboxed-runner.js';

/** The sandbox modes an operator picks from (`MAESTRO_SANDBOX`). */
export const SandboxModes = {
  /** bubblewrap; the default. */
  bwrap: 'bwrap',
  /** No sandbox at all; only with `allowUnsandboxed`. */
  none: 'none',
} as const;
/** One of {@link SandboxModes}. */
export type SandboxMode = (typeof SandboxModes)[keyof typeof SandboxModes];

/** Options of {@link createCommandSandbox}. */
export interface CommandSandboxOptions {
  mode: SandboxMode;
  /** Run commands without a sandbox when bubblewrap is unavailable (and allow mode `none`). */
  allowUnsandboxed: boolean;
  /** For mode `bwrap`. @default BubblewrapSandbox's defaults */
  bubblewrap?: BubblewrapSandboxOptions;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Finds whether bubblewrap works, given `bubblewrap` (tests decide it without bwrap). @default probeSandbox */
  probe?: (options: BubblewrapSandboxOptions) => Promise<SandboxProbe>;
}

/**
 * Probes and picks: {@link BubblewrapSandbox} when the probe passes (logging how each limit is
 * enforced, and warning when the process limit is off because the operator allowed it), else
 * {@link UnsandboxedRunner} if allowed or {@link RefusingSandbox} (logged at warn). Where
 * bubblewrap works but no process limit can be enforced, every command is refused whatever
 * `allowUnsandboxed` says: running them without any sandbox would bound their processes no better.
 * Mode `none` without `allowUnsandboxed` is a mistake the config check stops first; here it throws.
 */
export async function createCommandSandbox(options: CommandSandboxOptions): Promise<Sandbox> {
  const { logger } = options;
  if (options.mode === SandboxModes.none) {
    if (!options.allowUnsandboxed) throw new Error('sandbox mode none needs allowUnsandboxed (MAESTRO_SANDBOX=none needs MAESTRO_ALLOW_UNSANDBOXED=true)');
    logger.warn('SANDBOX OFF: agent and test commands run WITHOUT a sandbox, with the executor\'s uid, files and network (MAESTRO_SANDBOX=none, MAESTRO_ALLOW_UNSANDBOXED=true)');
    return new UnsandboxedRunner('MAESTRO_SANDBOX=none');
  }
  const probe = await (options.probe ?? probeSandbox)(options.bubblewrap ?? {});
  if (probe.available) {
    const processLimit = probe.sandbox.processLimit;
    if (processLimit.how === 'unenforced') {
      logger.warn(`SANDBOX PROCESS LIMIT OFF: agent and test commands run in bubblewrap with NO limit on their processes, so a fork bomb is not contained (${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true)`, { reason: processLimit.why });
    }
    logger.info('command sandbox: bubblewrap', {
      bwrap: probe.sandbox.bwrapPath,
      network: probe.sandbox.network ? 'allowed' : 'none',
      limits: Object.fromEntries(probe.enforcement.map((e) => [e.limit, e.value === undefined ? e.how : `${e.value} (${e.how})`])),
    });
    return probe.sandbox;
  }
  if (probe.failed === 'processLimit') {
    logger.warn(`SANDBOX PROCESS LIMIT UNAVAILABLE: every agent and test command will be REFUSED (SANDBOX_UNAVAILABLE); give the executor a writable cgroup v1 pids hierarchy, run it as a non-root uid, or set ${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true`, { reason: probe.reason });
    return new RefusingSandbox(probe.reason, PROCESS_LIMIT_REMEDY);
  }
  if (options.allowUnsandboxed) {
    logger.warn('SANDBOX UNAVAILABLE: agent and test commands run WITHOUT a sandbox, as MAESTRO_ALLOW_UNSANDBOXED=true', { reason: probe.reason });
    return new UnsandboxedRunner(`bubblewrap unavailable: ${probe.reason}; MAESTRO_ALLOW_UNSANDBOXED=true`);
  }
  logger.warn('SANDBOX UNAVAILABLE: every agent and test command will be REFUSED (SANDBOX_UNAVAILABLE); install bubblewrap or set MAESTRO_ALLOW_UNSANDBOXED=true', { reason: probe.reason });
  return new RefusingSandbox(probe.reason);
}
