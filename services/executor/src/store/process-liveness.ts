/**
 * Whether a process of this host is still the one that wrote a marker: alive (signal 0), and,
 * when the marker recorded it, started at the same kernel time (a reused pid is another process).
 */
import { readFile } from 'node:fs/promises';
import type { ExecutorMarker } from '../domain/executor-directory.js';

/** The process's start time (`/proc/<pid>/stat` field 22, clock ticks since boot), or undefined where unreadable. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (EPERM means it does, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the executor process `pid` is gone: no such process, or a process that started at
 * another time than the marker recorded (its pid was reused). Without a recorded start time a
 * live pid counts as the executor's.
 */
export async function isExecutorGone(pid: number, marker: ExecutorMarker | undefined): Promise<boolean> {
  if (!isProcessAlive(pid)) return true;
  if (marker?.startTime === undefined || marker.pid !== pid) return false;
  const now = await processStartTime(pid);
  return now !== undefined && now !== marker.startTime;
}
