/**
 * Which worktree directories belong to executors that ran with the default id
 * `<hostname>-<pid>` on this host (`MAESTRO_EXECUTOR_ID` unset). Such an id changes with every
 * process, so a crashed executor's worktrees are found by the pid in its directory's name and
 * removed once that process is gone. Pure naming; liveness is `store/process-liveness.ts`.
 */
import { toSafeSegment } from './worktree-layout.js';

/** The name of the marker file an executor keeps in its worktree directory (who it is, since when). */
export const EXECUTOR_MARKER_FILE = '.executor.json';

/** What the marker records: enough to tell a live owner from a later process that reused its pid. */
export interface ExecutorMarker {
  executorId: string;
  hostname: string;
  pid: number;
  /** The process's start time as the kernel reports it (`/proc/<pid>/stat`, field 22), when readable. */
  startTime?: string;
}

/**
 * The pid in the name of a worktree directory of a default-id executor on `hostname`
 * (`toSafeSegment('<hostname>-<pid>')`), or undefined when the name is not one.
 *
 * @example
 * pidOfDefaultIdDirectory('build-7-4242', 'build-7'); // 4242
 */
export function pidOfDefaultIdDirectory(name: string, hostname: string): number | undefined {
  const prefix = toSafeSegment(`${hostname}-`);
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (!/^[1-9]\d{0,9}$/.test(rest)) return undefined;
  return Number(rest);
}

/** Parses a marker file's text; undefined when it is not one. */
export function parseExecutorMarker(text: string): ExecutorMarker | undefined {
  try {
    const value = JSON.parse(text) as Partial<ExecutorMarker>;
    if (typeof value.executorId !== 'string' || typeof value.hostname !== 'string' || typeof value.pid !== 'number') return undefined;
    return {
      executorId: value.executorId,
      hostname: value.hostname,
      pid: value.pid,
      ...(typeof value.startTime === 'string' ? { startTime: value.startTime } : {}),
    };
  } catch {
    return undefined;
  }
}
