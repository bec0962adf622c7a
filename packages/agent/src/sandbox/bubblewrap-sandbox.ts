/**
 * The real sandbox: bubblewrap (`bwrap`). Each command gets fresh user, mount, PID, IPC, UTS,
 * cgroup and (unless allowed) network namespaces; no capabilities; a root made of a curated
 * read-only view of the host (`system-mounts.ts`), its repository's git dir and linked
 * dependencies read-only (`worktree-mounts.ts`), a private `/tmp` (its HOME and TMPDIR), and its
 * worktree as the only writable host directory. The PID namespace ends with the command, taking
 * every process it started with it (`setsid` daemons included). Limits: rlimits through
 * `prlimit` inside, a pids and a memory cgroup per command when the host lets us make them.
 * Without a pids cgroup the process limit is RLIMIT_NPROC, which binds any uid but 0: an
 * executor running as root then refuses every command unless the operator opted into no
 * process limit at all (`allowUnlimitedProcesses`), so a fork bomb is never silently uncontained.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { bubblewrapArgs, SANDBOX_HOME } from './bubblewrap-args.js';
import { belowFloorMessage, DiskFloorDefaults, freeBelowFloor, type DiskFloor } from './disk-floor.js';
import { createCommandCgroups, detectCgroupV1, type CgroupAvailability, type CgroupController, type CommandCgroups } from './cgroup-limits.js';
import { refusalMessage } from './refusing-sandbox.js';
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
   * Where the cgroup v1 hierarchies are mounted; `false` uses none (processes then bounded by
   * RLIMIT_NPROC, see {@link ProcessLimitPlan}; memory by RLIMIT_AS). @default '/sys/fs/cgroup'
   */
  cgroupRoot?: string | false;
  /**
   * Each controller's availability as found already, instead of detecting it under `cgroupRoot`
   * (tests, and the probe's second sandbox). @default detectCgroupV1 of each under cgroupRoot
   */
  cgroups?: Readonly<Record<CgroupController, CgroupAvailability>>;
  /**
   * The uid commands run as: the executor's own (bwrap keeps it). It decides whether RLIMIT_NPROC
   * can stand in for a missing pids cgroup (it does not bind uid 0). @default process.getuid()
   */
  uid?: number;
  /**
   * Run commands with no process limit where none can be enforced (no usable pids cgroup and
   * uid 0); otherwise every command is then refused with `SANDBOX_UNAVAILABLE`. The operator's
   * `MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES`. @default false
   */
  allowUnlimitedProcesses?: boolean;
}

/** The variable an operator sets to accept commands without a process limit (named in refusals and warnings). */
export const ALLOW_UNLIMITED_PROCESSES_VARIABLE = 'MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES';

/** What an operator can do when no process limit can be enforced, said with every refused command. */
export const PROCESS_LIMIT_REMEDY = `An operator must give the executor a writable cgroup v1 pids hierarchy or run it as a non-root uid, or set ${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true to run commands with no process limit (a fork bomb is then not contained).`;

/**
 * How the process limit of every command is enforced on this host, decided once from the pids
 * cgroup's availability and the uid: a pids cgroup per command; else RLIMIT_NPROC (any uid but
 * 0); else, as root, refused, or not enforced when the operator allowed unlimited processes.
 */
export type ProcessLimitPlan =
  | { how: 'cgroup'; parentDir: string }
  | { how: 'nproc'; uid: number; why: string }
  | { how: 'unenforced'; why: string }
  | { how: 'refused'; why: string };

/** Every default of {@link BubblewrapSandboxOptions}. */
export const BubblewrapDefaults = {
  bwrapPath: '/usr/bin/bwrap',
  prlimitPath: '/usr/bin/prlimit',
  cgroupRoot: '/sys/fs/cgroup',
  allowUnlimitedProcesses: false,
} as const;

/** Runs commands inside bubblewrap; see the module comment for what a command sees. */
export class BubblewrapSandbox implements Sandbox {
  readonly kind = 'bubblewrap' as const;
  readonly bwrapPath: string;
  readonly prlimitPath: string;
  readonly network: boolean;
  /** How each command's processes are bounded (or why commands are refused). */
  readonly processLimit: ProcessLimitPlan;
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
      options.cgroups ??
      (root === false
        ? { pids: { usable: false, reason: 'cgroups turned off' }, memory: { usable: false, reason: 'cgroups turned off' } }
        : { pids: detectCgroupV1('pids', root), memory: detectCgroupV1('memory', root) });
    // Without getuid (not Linux) the uid is taken as root: the safe side of the choice below.
    this.processLimit = planProcessLimit(this.cgroups.pids, options.uid ?? process.getuid?.() ?? 0, options.allowUnlimitedProcesses ?? BubblewrapDefaults.allowUnlimitedProcesses);
    this.system = systemMounts();
  }

  /**
   * Why every command is refused (no process limit can be enforced as uid 0 and the operator did
   * not allow unlimited processes; {@link PROCESS_LIMIT_REMEDY} says what to do), or undefined
   * when commands may run.
   */
  refusal(): string | undefined {
    return this.processLimit.how === 'refused' ? `no process limit can be enforced: ${this.processLimit.why}` : undefined;
  }

  async prepare(argv: readonly string[], request: SandboxRequest): Promise<PreparedCommand> {
    const refusal = this.refusal();
    if (refusal !== undefined) throw new SandboxError(SandboxErrorCodes.unavailable, refusalMessage(refusal, PROCESS_LIMIT_REMEDY));
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
    const diskFloor: DiskFloor = { path: worktree, minFreeBytes: limits.minFreeDiskBytes };
    const free = freeBelowFloor(diskFloor);
    if (free !== undefined) throw new SandboxError(SandboxErrorCodes.diskLow, `the command was not started: ${belowFloorMessage(diskFloor, free)}`);
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
      diskFloor,
      cleanup: async () => {
        await groups?.remove().catch(() => undefined);
      },
    };
  }

  enforcement(): LimitEnforcement[] {
    const { memory } = this.cgroups;
    return [
      { limit: 'wallClock', value: undefined, how: "the caller's timeout kills bwrap, and the PID namespace with it" },
      { limit: 'cpuSeconds', value: this.limits.cpuSeconds, how: 'RLIMIT_CPU per process (prlimit)' },
      { limit: 'fileSizeBytes', value: this.limits.fileSizeBytes, how: 'RLIMIT_FSIZE per process (prlimit)' },
      { limit: 'openFiles', value: this.limits.openFiles, how: 'RLIMIT_NOFILE per process (prlimit)' },
      this.processEnforcement(),
      memory.usable
        ? { limit: 'memoryBytes', value: this.limits.memoryBytes, how: `cgroup v1 memory.limit_in_bytes per command under ${memory.parentDir}` }
        : { limit: 'memoryBytes', value: this.limits.addressSpaceBytes, how: `RLIMIT_AS per process (prlimit), as ${memory.reason}` },
      {
        limit: 'minFreeDiskBytes',
        value: this.limits.minFreeDiskBytes,
        how: `free space of the worktree's filesystem (statfs) before the command and every ${DiskFloorDefaults.checkMs} ms while it runs; ended below it (a floor, not a quota)`,
      },
    ];
  }

  private processEnforcement(): LimitEnforcement {
    const plan = this.processLimit;
    switch (plan.how) {
      case 'cgroup':
        return { limit: 'processes', value: this.limits.processes, how: `cgroup v1 pids.max per command under ${plan.parentDir}` };
      case 'nproc':
        return {
          limit: 'processes',
          value: this.limits.processes,
          how:
            `RLIMIT_NPROC per process (prlimit), as ${plan.why}. A fork fails once uid ${plan.uid} has that many processes and threads. ` +
            `The kernel counts them per uid: from Linux 5.14 within each command's own user namespace; on older kernels every process of uid ${plan.uid} ` +
            `in the container counts (the executor's and other commands' included), so the limit then bounds all of them together`,
        };
      case 'unenforced':
        return { limit: 'processes', value: undefined, how: `NOT ENFORCED (${plan.why}; ${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true)` };
      case 'refused':
        return { limit: 'processes', value: undefined, how: `none can be enforced (${plan.why}): every command is refused` };
    }
  }

  private rlimitOptions(limits: SandboxLimits): string[] {
    return [
      `--cpu=${limits.cpuSeconds}`,
      `--fsize=${limits.fileSizeBytes}`,
      `--nofile=${limits.openFiles}`,
      ...(this.processLimit.how === 'nproc' ? [`--nproc=${limits.processes}`] : []),
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

/**
 * Picks how processes are bounded: the pids cgroup when usable; else RLIMIT_NPROC for a non-root
 * `uid`; else (root, which RLIMIT_NPROC does not bind) refused, or unenforced if `allowUnlimited`.
 */
export function planProcessLimit(pids: CgroupAvailability, uid: number, allowUnlimited: boolean): ProcessLimitPlan {
  if (pids.usable) return { how: 'cgroup', parentDir: pids.parentDir };
  if (uid !== 0) return { how: 'nproc', uid, why: `the pids cgroup is not usable: ${pids.reason}` };
  const why = `the pids cgroup is not usable: ${pids.reason}; and the executor runs as uid 0, which RLIMIT_NPROC does not bind`;
  return allowUnlimited ? { how: 'unenforced', why } : { how: 'refused', why };
}

function realOrThrow(path: string, what: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    throw new SandboxError(SandboxErrorCodes.setupFailed, `the ${what} ${path} does not exist`, { cause: err });
  }
}

