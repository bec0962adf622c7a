/**
 * The watchdog of a foreground `maestro up`: a small process of its own session that the
 * supervisor feeds, over a pipe, one line per service it starts (`{"label","pid","entry"}`).
 * When the pipe ends — the supervisor exited, crashed, or was killed with SIGKILL, which no
 * signal handler sees — it stops every recorded service's process group still ours (clients
 * first, SIGTERM then SIGKILL), so no service outlives its supervisor. After a clean stop there
 * is nothing left, and it just exits.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { groupTarget, type ClusterProcessState } from './cluster-state.js';
import { stopTargets, type StopTargetsOptions } from './stop-targets.js';

/** One line the supervisor writes to the watchdog. */
export type WatchedProcess = Pick<ClusterProcessState, 'label' | 'pid' | 'entry'>;

function parseLine(line: string): WatchedProcess | undefined {
  try {
    const value = JSON.parse(line) as Partial<WatchedProcess>;
    if (typeof value.pid === 'number' && typeof value.entry === 'string') return { label: String(value.label ?? value.pid), pid: value.pid, entry: value.entry };
  } catch {
    // not a line of ours
  }
  return undefined;
}

/**
 * Reads watched processes from `input` until it ends, then stops those still ours (the last
 * started first); resolves with the labels of any still running after SIGKILL.
 */
export async function runWatchdog(input: Readable, options: StopTargetsOptions = {}): Promise<string[]> {
  const watched: WatchedProcess[] = [];
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    const proc = parseLine(line);
    if (proc) watched.push(proc);
  }
  const left = await stopTargets([...watched].reverse().map(groupTarget), options);
  return left.map((t) => t.label);
}
