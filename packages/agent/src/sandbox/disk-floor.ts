/**
 * The disk floor: a sandboxed command may write as much as it likes into its worktree, one file
 * at a time bounded by RLIMIT_FSIZE, but it must not fill the filesystem its worktree lives on
 * (the executor's, its other agents' and the host's). So the free space of that filesystem is
 * read before the command starts (a command is not started below the floor) and every
 * `checkMs` while it runs; once it falls below the floor the command is ended.
 *
 * What this is not: a quota. It does not know who wrote what, so the command running when the
 * disk gets low is the one ended, even if something else filled it; and a command that writes
 * faster than `checkMs` allows can overshoot the floor by what it writes in that time. The floor
 * keeps a margin for exactly that. The operator sets it with `MAESTRO_SANDBOX_MIN_FREE_DISK_MIB`.
 */
import { statfsSync } from 'node:fs';
import { systemClock, type Clock, type Timer } from '@maestro/runtime';

/** Bytes free to an unprivileged writer on the filesystem holding `path`. */
export type FreeSpaceReader = (path: string) => number;

/** Reads the free space with statfs(2): blocks available to non-root writers times their size. */
export const statfsFreeBytes: FreeSpaceReader = (path) => {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
};

/** The floor one command is held to. */
export interface DiskFloor {
  /** A path on the filesystem to watch (the worktree). */
  path: string;
  /** The free space the filesystem must keep, in bytes. */
  minFreeBytes: number;
}

/** How the floor is watched. */
export interface DiskFloorWatchOptions {
  /** Between two readings while the command runs. @default DiskFloorDefaults.checkMs */
  checkMs?: number;
  clock?: Clock;
  /** @default statfsFreeBytes */
  freeBytes?: FreeSpaceReader;
}

/** Every default of {@link DiskFloorWatchOptions}. */
export const DiskFloorDefaults = {
  /** Often enough that a fast writer overshoots by little; a statfs is one cheap system call. */
  checkMs: 100,
} as const;

const MIB = 1024 * 1024;

/** A byte count as MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** Why the floor was crossed, in words for the agent and the logs. */
export function belowFloorMessage(floor: DiskFloor, free: number): string {
  return `only ${mib(free)} is free on the filesystem of ${floor.path}, below the sandbox's floor of ${mib(floor.minFreeBytes)}`;
}

/**
 * The free space below the floor now, or undefined when there is enough (or when it cannot be
 * read: the command's own failures then tell what is wrong with its worktree).
 */
export function freeBelowFloor(floor: DiskFloor, freeBytes: FreeSpaceReader = statfsFreeBytes): number | undefined {
  let free: number;
  try {
    free = freeBytes(floor.path);
  } catch {
    return undefined;
  }
  return free < floor.minFreeBytes ? free : undefined;
}

/**
 * Reads the free space every `checkMs` until stopped, and calls `onBelow` once (then stops) when
 * it falls below the floor. Returns the stop function.
 */
export function watchDiskFloor(floor: DiskFloor, onBelow: (message: string) => void, options: DiskFloorWatchOptions = {}): () => void {
  const clock = options.clock ?? systemClock;
  const checkMs = options.checkMs ?? DiskFloorDefaults.checkMs;
  let timer: Timer | undefined;
  let stopped = false;
  const check = (): void => {
    if (stopped) return;
    const free = freeBelowFloor(floor, options.freeBytes);
    if (free !== undefined) {
      stopped = true;
      onBelow(belowFloorMessage(floor, free));
      return;
    }
    timer = clock.setTimer(checkMs, check);
  };
  timer = clock.setTimer(checkMs, check);
  return () => {
    stopped = true;
    timer?.cancel();
  };
}
