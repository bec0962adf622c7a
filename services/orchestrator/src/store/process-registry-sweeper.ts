/**
 * Reads the registry of processes we started in a repository (written by `runCommand` in
 * `@maestro/agent`, under `<git-common-dir>/maestro/pids/`), tells what became of each, and
 * stops the orphaned ones. A process is only ever found by the pid WE recorded, and only
 * counted as ours while its start time (from `/proc/<pid>/stat`) still matches the recorded
 * one, so a pid the kernel reused for someone else's process is never signalled.
 *
 * The registry is a directory anyone with our uid can write, so an entry is not trusted on its
 * own: just before every signal the process's `/proc/<pid>/cmdline` must equal the recorded
 * command line and its `/proc/<pid>/cwd` must lie inside the repository or one of its worktrees
 * (`trustedRoots`); otherwise it is skipped and reported, never signalled.
 */
import {
  currentBootId,
  currentPidNamespace,
  isSameLiveProcess,
  readPidRegistry,
  removeRegistryFile,
  type RecordedProcess,
} from '@maestro/agent';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '@maestro/runtime';
import type { RecordedProcessView, StopResult } from '../domain/preflight/preflight-probe.js';

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
      cmdline: recorded.cmdline ?? recorded.argv,
      startedAt: recorded.startedAt,
      state: classify(recorded, here),
    })),
    unreadable,
  };
}

function inside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** `/proc/<pid>/cmdline` split into arguments, or undefined when it cannot be read. */
function liveCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined;
    return (raw.endsWith('\0') ? raw.slice(0, -1) : raw).split('\0');
  } catch {
    return undefined;
  }
}

/**
 * Why the live process at the view's pid may not be ours after all, or undefined when it still
 * is the recorded command working in the repository (see the module doc).
 */
export function notOursReason(view: Pick<RecordedProcessView, 'pid' | 'cmdline'>, trustedRoots: readonly string[]): string | undefined {
  const actual = liveCmdline(view.pid);
  if (actual === undefined) return 'its command line cannot be read';
  if (actual.length !== view.cmdline.length || actual.some((arg, i) => arg !== view.cmdline[i])) {
    return `its command line "${actual.join(' ').slice(0, 80)}" is not the recorded "${view.cmdline.join(' ').slice(0, 80)}"`;
  }
  let cwd: string;
  try {
    cwd = readlinkSync(`/proc/${view.pid}/cwd`);
  } catch {
    return 'its working directory cannot be read';
  }
  if (!trustedRoots.some((root) => inside(cwd, root))) return `its working directory ${cwd} is not inside the repository or one of its worktrees`;
  return undefined;
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
 * if it is still the same process. Before every signal checks the pid and start time again,
 * and that the process is still the recorded command working inside `trustedRoots`
 * ({@link notOursReason}); one that is not is skipped (`not-ours`, with the reason).
 */
export async function stopRecordedProcess(view: RecordedProcessView, graceMs: number, clock: Clock, trustedRoots: readonly string[]): Promise<StopResult> {
  const recorded = { pid: view.pid, startTicks: view.startTicks };
  const check = (): StopResult | undefined => {
    if (!isSameLiveProcess(recorded)) return { outcome: 'stopped-by-sigterm' };
    const reason = notOursReason(view, trustedRoots);
    return reason === undefined ? undefined : { outcome: 'not-ours', reason };
  };
  const beforeTerm = check();
  if (beforeTerm !== undefined) return beforeTerm;
  if (signalGroup(view.pid, 'SIGTERM') === 'not-permitted') return { outcome: 'not-permitted' };
  if (await goneWithin(recorded, graceMs, clock)) return { outcome: 'stopped-by-sigterm' };
  const beforeKill = check();
  if (beforeKill !== undefined) return beforeKill;
  if (signalGroup(view.pid, 'SIGKILL') === 'not-permitted') return { outcome: 'not-permitted' };
  return { outcome: (await goneWithin(recorded, AFTER_KILL_MS, clock)) ? 'stopped-by-sigkill' : 'still-running' };
}

/** Drops a registry file. */
export function dropRecordFile(file: string): void {
  removeRegistryFile(file);
}
