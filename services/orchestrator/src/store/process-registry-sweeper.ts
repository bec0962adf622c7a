/**
 * Reads the registry of processes we started in a repository (written by `runCommand` in
 * `@maestro/agent`, under `<git-common-dir>/maestro/pids/`), tells what became of each, and
 * stops the orphaned ones. A process is only ever found by the pid WE recorded, and only
 * counted as ours while its start time (from `/proc/<pid>/stat`) still matches the recorded
 * one, so a pid the kernel reused for someone else's process is never signalled.
 */
import {
  currentBootId,
  currentPidNamespace,
  isSameLiveProcess,
  readPidRegistry,
  removeRegistryFile,
  type RecordedProcess,
} from '@maestro/agent';
import type { Clock } from '@maestro/runtime';
import type { RecordedProcessView, StopOutcome } from '../domain/preflight/preflight-probe.js';

/** How often a stopping process is looked at while it gets its grace time. */
const STOP_POLL_MS = 100;
/** How long a process gets to disappear after SIGKILL (the kernel needs a moment). */
const AFTER_KILL_MS = 2_000;

function classify(recorded: RecordedProcess, here: { bootId: string | undefined; pidNamespace: string | undefined }): RecordedProcessView['state'] {
  if (recorded.bootId !== here.bootId) return 'other-boot';
  if (recorded.pidNamespace !== here.pidNamespace) return 'other-namespace';
  if (!isSameLiveProcess(recorded)) return 'gone';
  return isSameLiveProcess(recorded.owner) ? 'in-use' : 'orphaned';
}

/** The repository's recorded processes, each classified; files that are not entries are listed apart. */
export function readRecordedProcesses(commonDir: string): { processes: RecordedProcessView[]; unreadable: string[] } {
  const here = { bootId: currentBootId(), pidNamespace: currentPidNamespace() };
  const { entries, unreadable } = readPidRegistry(commonDir);
  return {
    processes: entries.map(({ file, process: recorded }) => ({
      file,
      pid: recorded.pid,
      startTicks: recorded.startTicks,
      argv: recorded.argv,
      startedAt: recorded.startedAt,
      state: classify(recorded, here),
    })),
    unreadable,
  };
}

/** Signals the process group the recorded process leads (runCommand starts each command as a group leader). */
function signalGroup(pid: number, signal: NodeJS.Signals): 'sent' | 'gone' | 'not-permitted' {
  try {
    process.kill(-pid, signal);
    return 'sent';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM') return 'not-permitted';
    // ESRCH: no such group; the leader itself may still be there if it left its group.
    try {
      process.kill(pid, signal);
      return 'sent';
    } catch (inner) {
      return (inner as NodeJS.ErrnoException).code === 'EPERM' ? 'not-permitted' : 'gone';
    }
  }
}

/** Waits up to `ms` of `clock` time for the process to be gone; true when it is. */
async function goneWithin(recorded: { pid: number; startTicks: number }, ms: number, clock: Clock): Promise<boolean> {
  for (let waited = 0; ; waited += STOP_POLL_MS) {
    if (!isSameLiveProcess(recorded)) return true;
    if (waited >= ms) return false;
    await clock.sleep(STOP_POLL_MS);
  }
}

/**
 * Stops an orphaned process we started: SIGTERM to its process group, SIGKILL after `graceMs`
 * if it is still the same process. Checks the pid and start time again before every signal.
 */
export async function stopRecordedProcess(view: RecordedProcessView, graceMs: number, clock: Clock): Promise<StopOutcome> {
  const recorded = { pid: view.pid, startTicks: view.startTicks };
  if (!isSameLiveProcess(recorded)) return 'stopped-by-sigterm';
  const term = signalGroup(view.pid, 'SIGTERM');
  if (term === 'not-permitted') return 'not-permitted';
  if (await goneWithin(recorded, graceMs, clock)) return 'stopped-by-sigterm';
  const kill = signalGroup(view.pid, 'SIGKILL');
  if (kill === 'not-permitted') return 'not-permitted';
  return (await goneWithin(recorded, AFTER_KILL_MS, clock)) ? 'stopped-by-sigkill' : 'still-running';
}

/** Drops a registry file. */
export function dropRecordFile(file: string): void {
  removeRegistryFile(file);
}
