/**
 * The real sandbox: bubblewrap (`bwrap`). Each command gets fresh user, mount, PID, IPC, UTS,
 * cgroup and (unless allowed) network namespaces; no capabilities; a root made of a curated
 * read-only view of the host (`system-mounts.ts`), its repository's git dir and linked
 * dependencies read-only (`worktree-mounts.ts`), a private `/tmp` (its HOME and TMPDIR), and its
 * worktree as the only writable host directory. The PID namespace ends with the command, taking
 * every process it started with it (`setsid` daemons included). Limits: rlimits through
 * `prlimit` inside, a pids and a memory cgroup per command when the host lets us make them.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { bubblewrapArgs, SANDBOX_HOME } from './bubblewrap-args.js';
import { createCommandCgroups, detectCgroupV1, type CgroupAvailability, type CgroupController, type CommandCgroups } from './cgroup-limits.js';
import { SandboxError, SandboxErrorCodes, type LimitEnforcement, type PreparedCommand, type Sandbox, type SandboxRequest } from './sandbox.js';
import { resolveSandboxLimits, type SandboxLimits } from './sandbox-defaults.js';
import { systemMounts, type SystemMount } from './system-mounts.js';
import { isWithin, worktreeMounts } from './worktree-mounts.js';

/** Options of {@link BubblewrapSandbox}. */
export interface BubblewrapSandboxOptions {
  /** The bwrap executable. @default '/usr/bin/bwrap' */
  bwrapPath?: string;
  /** util-linux `prlimit`, run inside the sandbox to set the rlimits. @default '/usr/bin/prlimit' */
  prlimitPath?: string;
  /** Let commands reach the network (the host's network namespace). @default false */
  network?: boolean;
  /** More host paths commands may read (toolchains outside `/usr`), bound read-only. @default [] */
  readOnlyPaths?: readonly string[];
  /** The limits of every command. @default SandboxDefaults */
  limits?: Partial<SandboxLimits>;
  /**
   * Where the cgroup v1 hierarchies are mounted; `false` uses none (processes then unlimited,
   * memory by RLIMIT_AS). @default '/sys/fs/cgroup'
   */
  cgroupRoot?: string | false;
}

/** Every default of {@link BubblewrapSandboxOptions}. */
export const BubblewrapDefaults = {
  bwrapPath: '/usr/bin/bwrap',
  prlimitPath: '/usr/bin/prlimit',
  cgroupRoot: '/sys/fs/cgroup',
} as const;

/** Runs commands inside bubblewrap; see the module comment for what a command sees. */
export class BubblewrapSandbox implements Sandbox {
  readonly kind = 'bubblewrap' as const;
  readonly bwrapPath: string;
  readonly prlimitPath: string;
  readonly network: boolean;
  private readonly readOnlyPaths: string[];
  private readonly limits: SandboxLimits;
  private readonly cgroups: Record<CgroupController, CgroupAvailability>;
  private readonly system: SystemMount[];

  constructor(options: BubblewrapSandboxOptions = {}) {
    this.bwrapPath = options.bwrapPath ?? BubblewrapDefaults.bwrapPath;
    this.prlimitPath = options.prlimitPath ?? BubblewrapDefaults.prlimitPath;
    this.network = options.network ?? false;
    this.readOnlyPaths = (options.readOnlyPaths ?? []).map((path, i) => {
      if (!isAbsolute(path)) throw new SandboxError(SandboxErrorCodes.setupFailed, `readOnlyPaths[${i}]: must be an absolute path; got ${JSON.stringify(path)}`);
      return path;
    });
    this.limits = resolveSandboxLimits(options.limits);
    const root = options.cgroupRoot ?? BubblewrapDefaults.cgroupRoot;
    this.cgroups =
      root === false
        ? { pids: { usable: false, reason: 'cgroups turned off' }, memory: { usable: false, reason: 'cgroups turned off' } }
        : { pids: detectCgroupV1('pids', root), memory: detectCgroupV1('memory', root) };
    this.system = systemMounts();
  }

  async prepare(argv: readonly string[], request: SandboxRequest): Promise<PreparedCommand> {
    for (const [what, path] of [['bwrap', this.bwrapPath], ['prlimit', this.prlimitPath]] as const) {
      try {
        accessSync(path, constants.X_OK);
      } catch {
        throw new SandboxError(SandboxErrorCodes.unavailable, `the sandbox is unavailable: ${what} is not an executable at ${path}`);
      }
    }
    const worktree = realOrThrow(request.worktree, 'worktree');
    const cwd = realOrThrow(request.cwd, 'cwd');
    if (!isWithin(cwd, worktree)) throw new SandboxError(SandboxErrorCodes.setupFailed, `the working directory ${cwd} is not inside the worktree ${worktree}`);
    const limits = resolveSandboxLimits(request.limits, this.limits);
    const groups = this.commandCgroups(limits);
    const repository = worktreeMounts(worktree);
    const args = bubblewrapArgs({
      bwrapPath: this.bwrapPath,
      prlimitPath: this.prlimitPath,
      network: this.network,
      system: this.system,
      readOnly: [...repository.readOnly, ...this.readOnlyPaths].filter((path) => !isWithin(worktree, path)),
      worktree,
      protectedInside: repository.protectedInside,
      cwd,
      cgroupProcs: groups?.procsFiles ?? {},
      rlimits: this.rlimitOptions(limits),
      argv,
    });
    return {
      argv: args,
      env: { ...request.env, HOME: SANDBOX_HOME, TMPDIR: '/tmp' },
      cleanup: async () => {
        await groups?.remove().catch(() => undefined);
      },
    };
  }

  enforcement(): LimitEnforcement[] {
    const { pids, memory } = this.cgroups;
    return [
      { limit: 'wallClock', value: undefined, how: "the caller's timeout kills bwrap, and the PID namespace with it" },
      { limit: 'cpuSeconds', value: this.limits.cpuSeconds, how: 'RLIMIT_CPU per process (prlimit)' },
      { limit: 'fileSizeBytes', value: this.limits.fileSizeBytes, how: 'RLIMIT_FSIZE per process (prlimit)' },
      { limit: 'openFiles', value: this.limits.openFiles, how: 'RLIMIT_NOFILE per process (prlimit)' },
      pids.usable
        ? { limit: 'processes', value: this.limits.processes, how: `cgroup v1 pids.max per command under ${pids.parentDir}` }
        : { limit: 'processes', value: undefined, how: `not enforced (${pids.reason}; RLIMIT_NPROC does not bind uid 0)` },
      memory.usable
        ? { limit: 'memoryBytes', value: this.limits.memoryBytes, how: `cgroup v1 memory.limit_in_bytes per command under ${memory.parentDir}` }
        : { limit: 'memoryBytes', value: this.limits.addressSpaceBytes, how: `RLIMIT_AS per process (prlimit), as ${memory.reason}` },
    ];
  }

  private rlimitOptions(limits: SandboxLimits): string[] {
    return [
      `--cpu=${limits.cpuSeconds}`,
      `--fsize=${limits.fileSizeBytes}`,
      `--nofile=${limits.openFiles}`,
      ...(this.cgroups.memory.usable ? [] : [`--as=${limits.addressSpaceBytes}`]),
    ];
  }

  private commandCgroups(limits: SandboxLimits): CommandCgroups | undefined {
    const parents: Partial<Record<CgroupController, string>> = {};
    if (this.cgroups.pids.usable) parents.pids = this.cgroups.pids.parentDir;
    if (this.cgroups.memory.usable) parents.memory = this.cgroups.memory.parentDir;
    if (Object.keys(parents).length === 0) return undefined;
    try {
      return createCommandCgroups(parents, { pids: limits.processes, memory: limits.memoryBytes });
    } catch (err) {
      throw new SandboxError(SandboxErrorCodes.setupFailed, `could not make the command's cgroups: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}

function realOrThrow(path: string, what: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    throw new SandboxError(SandboxErrorCodes.setupFailed, `the ${what} ${path} does not exist`, { cause: err });
  }
}

