/**
 * The limits every sandboxed command runs under, in one place. The wall-clock timeout is not
 * here: the caller's (`runCommand`'s `timeoutMs`, the loop's `execTimeoutMs`/`testTimeoutMs`).
 */
import { invalidField } from '@maestro/runtime';

/** Resource limits on one sandboxed command. */
export interface SandboxLimits {
  /** CPU seconds per process (RLIMIT_CPU): a process past it gets SIGXCPU, then SIGKILL. @default 600 */
  cpuSeconds: number;
  /** Largest file a process may write, in bytes (RLIMIT_FSIZE): a write past it fails with SIGXFSZ. @default 1 GiB */
  fileSizeBytes: number;
  /** Open file descriptors per process (RLIMIT_NOFILE). @default 4096 */
  openFiles: number;
  /**
   * Processes and threads of the whole command (a pids cgroup's `pids.max`; node counts each of
   * its threads). Without a writable pids cgroup, RLIMIT_NPROC of the command's uid instead; as
   * uid 0, which RLIMIT_NPROC does not bind, commands are refused unless the operator allowed
   * unlimited processes (see `ProcessLimitPlan`). @default 1024
   */
  processes: number;
  /**
   * Memory of the whole command in bytes (a memory cgroup's `memory.limit_in_bytes`); without a
   * writable memory cgroup, each process's address space (RLIMIT_AS) is capped at
   * `addressSpaceBytes` instead. @default 4 GiB
   */
  memoryBytes: number;
  /**
   * The per-process address-space cap used only when no memory cgroup can be had: generous,
   * because V8 and WebAssembly reserve far more address space than they use. @default 16 GiB
   */
  addressSpaceBytes: number;
  /**
   * Free space the worktree's filesystem must keep, in bytes: a command is not started below it
   * and is ended when the free space falls below it while it runs (see `disk-floor.ts`; a floor,
   * not a quota). @default 256 MiB
   */
  minFreeDiskBytes: number;
}

const GIB = 1024 * 1024 * 1024;

/** Every default of {@link SandboxLimits}. */
export const SandboxDefaults: Readonly<SandboxLimits> = Object.freeze({
  cpuSeconds: 600,
  fileSizeBytes: GIB,
  openFiles: 4096,
  processes: 1024,
  memoryBytes: 4 * GIB,
  addressSpaceBytes: 16 * GIB,
  minFreeDiskBytes: GIB / 4,
});

/**
 * `overrides` on top of `base`, each a positive whole number; a bad one is INVALID_ARGUMENT
 * naming `limits.<name>`.
 */
export function resolveSandboxLimits(overrides: Partial<SandboxLimits> = {}, base: Readonly<SandboxLimits> = SandboxDefaults): SandboxLimits {
  const limits: SandboxLimits = { ...base };
  for (const [name, value] of Object.entries(overrides) as Array<[keyof SandboxLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(name in SandboxDefaults)) throw invalidField(`limits.${name}`, 'is not a sandbox limit');
    if (!Number.isSafeInteger(value) || value < 1) throw invalidField(`limits.${name}`, `must be a positive whole number; got ${value}`);
    limits[name] = value;
  }
  return limits;
}
