/**
 * Per-command cgroups (v1) for the limits rlimits cannot give: the number of processes of the
 * whole command (root, kuid 0, is exempt from RLIMIT_NPROC) and its memory. cgroup v2 is not
 * supported yet: on a v2-only host the reason a controller is unusable says so. For each command a
 * child group `<own group>/maestro-sandbox/<id>` is made under the executor's own group of each
 * controller (so any limit the host set on the executor still applies), its limit written, and
 * removed after the command ended. The command joins it from inside the sandbox: only the
 * group's `cgroup.procs` file is bound into it, so it can join, not leave or change the limit.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The controllers used, and the file holding each one's limit. */
export const CgroupControllers = {
  pids: { limitFile: 'pids.max' },
  memory: { limitFile: 'memory.limit_in_bytes' },
} as const;
/** One of the keys of {@link CgroupControllers}. */
export type CgroupController = keyof typeof CgroupControllers;

/** The parent group made under the executor's own, holding one group per command. */
const PARENT = 'maestro-sandbox';
/** `statfs` type of a cgroup v2 mount (CGROUP2_SUPER_MAGIC). */
const CGROUP2_MAGIC = 0x63677270;
/** Tries at removing a group whose last processes are still being reaped. */
const REMOVE_TRIES = 20;
const REMOVE_PAUSE_MS = 50;

/** Where a controller can be used, or why not. */
export type CgroupAvailability = { usable: true; parentDir: string } | { usable: false; reason: string };

/** A command's groups: the `cgroup.procs` file of each (to bind into the sandbox) and a way to remove them. */
export interface CommandCgroups {
  procsFiles: Partial<Record<CgroupController, string>>;
  remove(): Promise<void>;
}

/**
 * Finds `controller`'s v1 hierarchy under `root` and this process's group in it
 * (`/proc/self/cgroup`), and checks that a child group can be made there.
 */
export function detectCgroupV1(controller: CgroupController, root = '/sys/fs/cgroup'): CgroupAvailability {
  const mount = join(root, controller);
  if (!existsSync(join(mount, 'cgroup.procs'))) {
    const v2 = cgroupV2Evidence({ root, rootIsCgroup2: isCgroup2Mount(root), selfCgroup: readSelfCgroup() });
    const missing = `no cgroup v1 ${controller} hierarchy at ${mount}`;
    return { usable: false, reason: v2 === undefined ? missing : `${missing}: this host uses cgroup v2 (${v2}), which the sandbox does not support yet` };
  }
  const own = ownGroup(controller);
  const ownDir = own !== undefined && existsSync(join(mount, own)) ? join(mount, own) : mount;
  const parentDir = join(ownDir, PARENT);
  try {
    mkdirSync(parentDir, { recursive: true });
    accessSync(join(parentDir, 'cgroup.procs'), constants.W_OK);
    removeStaleGroups(parentDir);
    if (!existsSync(join(parentDir, CgroupControllers[controller].limitFile))) {
      return { usable: false, reason: `${parentDir} has no ${CgroupControllers[controller].limitFile}` };
    }
    return { usable: true, parentDir };
  } catch (err) {
    return { usable: false, reason: `cannot make a group under ${ownDir}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * What shows that this host runs cgroup v2 only, or undefined: `root` mounted as `cgroup2`, or
 * `/proc/self/cgroup` holding nothing but the unified `0::` line. Pure, so it is tested without
 * a cgroup v2 host.
 */
export function cgroupV2Evidence(host: { root: string; rootIsCgroup2: boolean; selfCgroup: string | undefined }): string | undefined {
  if (host.rootIsCgroup2) return `${host.root} is a cgroup2 mount`;
  const lines = (host.selfCgroup ?? '').split('\n').filter((line) => line.trim() !== '');
  if (lines.length > 0 && lines.every((line) => line.startsWith('0::'))) return '/proc/self/cgroup lists only the unified 0:: hierarchy';
  return undefined;
}

function isCgroup2Mount(path: string): boolean {
  try {
    return statfsSync(path).type === CGROUP2_MAGIC;
  } catch {
    return false;
  }
}

function readSelfCgroup(): string | undefined {
  try {
    return readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Removes the groups a killed executor left behind: named `<pid>-<random>` by their creator, empty,
 * and that pid no longer running. A group still in use is never empty, so `rmdir` leaves it.
 */
function removeStaleGroups(parentDir: string): void {
  for (const name of readdirSync(parentDir)) {
    const match = /^(\d+)-[0-9a-f]+$/.exec(name);
    if (match === null || existsSync(`/proc/${match[1]}`)) continue;
    try {
      rmdirSync(join(parentDir, name));
    } catch {
      // Not empty or already gone: left alone.
    }
  }
}

/** This process's group path in `controller`'s v1 hierarchy (`4:memory:/a/b` → `/a/b`); without /proc, undefined (the hierarchy's root is used). */
function ownGroup(controller: string): string | undefined {
  for (const line of (readSelfCgroup() ?? '').split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    if (line.slice(first + 1, second).split(',').includes(controller)) return line.slice(second + 1);
  }
  return undefined;
}

/**
 * Makes one group per controller in `parents` for a command, with its limit written. Throws
 * when a group cannot be made or limited (the groups made so far are removed first).
 */
export function createCommandCgroups(parents: Partial<Record<CgroupController, string>>, limits: Partial<Record<CgroupController, number>>): CommandCgroups {
  const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const made: string[] = [];
  const procsFiles: Partial<Record<CgroupController, string>> = {};
  const remove = async (): Promise<void> => {
    await Promise.all(made.map((dir) => removeGroup(dir)));
  };
  try {
    for (const [controller, parentDir] of Object.entries(parents) as Array<[CgroupController, string]>) {
      const limit = limits[controller];
      if (limit === undefined) continue;
      const dir = join(parentDir, id);
      mkdirSync(dir);
      made.push(dir);
      writeFileSync(join(dir, CgroupControllers[controller].limitFile), String(limit));
      procsFiles[controller] = join(dir, 'cgroup.procs');
    }
  } catch (err) {
    void remove();
    throw err;
  }
  return { procsFiles, remove };
}

/**
 * Kills what is left in the group (the PID namespace's end killed it already; this is for
 * safety) and removes it, retrying while the kernel still reaps its last processes.
 */
async function removeGroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < REMOVE_TRIES; attempt++) {
    for (const pid of groupProcesses(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((resolveTimer) => setTimeout(resolveTimer, REMOVE_PAUSE_MS));
    }
  }
}

function groupProcesses(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return [];
  }
}
