/**
 * Signals to process groups. Each service of `maestro up` leads a process group of its own
 * (it is spawned detached), and the commands it starts (an executor's test runners, git) are in
 * that group: signalling the group reaches them too, where signalling the PID would leave them
 * running after their service is gone.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** What runs under a PID: nothing, a zombie (exited, not yet reaped: the PID is still held), or a live process. */
export type PidState = 'none' | 'zombie' | 'live';

/** The state letter and process group of `/proc/<pid>/stat`; undefined when there is no such process (or no /proc). */
function statOf(pid: number | string): { state: string; pgrp: number } | undefined {
  try {
    // `pid (comm) S ppid pgrp …`: the fields follow the last ')' (comm may hold one).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', , pgrp = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

const hasProc = (): boolean => existsSync('/proc/self/stat');

/** What runs under `pid` (see {@link PidState}); where there is no /proc, a PID that answers counts as live. */
export function pidState(pid: number): PidState {
  if (!Number.isInteger(pid) || pid <= 0) return 'none';
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: another user's process.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return 'none';
  }
  if (!hasProc()) return 'live';
  const stat = statOf(pid);
  if (!stat) return 'none';
  return stat.state === 'Z' ? 'zombie' : 'live';
}

/**
 * True while a process group with id `pgid` has live members this user may signal. Zombies do
 * not count: where nothing reaps orphans (a container's init may not), an exited member stays a
 * zombie in its group for good.
 */
export function groupExists(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!hasProc()) return true;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(entry);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/**
 * True when group `pgid` outlived its leader: the leader has exited (or is a zombie) and members
 * remain. The kernel does not hand out a PID while a group of that id exists, so such a group is
 * still the one the leader started, never a stranger's.
 */
export function isOrphanedGroup(pgid: number): boolean {
  return pidState(pgid) !== 'live' && groupExists(pgid);
}

/**
 * Sends `signal` to the process group `pid` leads; when `pid` leads none (no group of that id
 * exists), to the process alone. Returns false when nothing was signalled (already gone).
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
