/**
 * The pure rules of preflight: given what the probe saw, is each check passed, remedied or
 * violated, and what should a person do. No I/O here; `preflight.activity.ts` asks the probe and
 * applies these.
 */
import type { FailingTests } from '@maestro/agent';
import { CheckStatuses, PreflightChecks, type CheckOutcome } from './preflight-check.js';
import type { BaselineRun, GitOperation, IndexLockObservation, PortObservation, RecordedProcessView, RepositoryState, StaleLockRemoval, StopResult } from './preflight-probe.js';

const MIB = 1024 * 1024;

function bytes(n: number): string {
  return n >= 1024 * MIB ? `${(n / (1024 * MIB)).toFixed(1)} GiB` : `${Math.round(n / MIB)} MiB`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** The binaries the repository needs: `git`, and the test command's program. */
export function judgeBinaries(found: ReadonlyArray<{ name: string; role: string; path: string | undefined }>): CheckOutcome {
  const missing = found.filter((f) => f.path === undefined);
  if (missing.length === 0) {
    return { check: PreflightChecks.binaries, status: CheckStatuses.passed, summary: found.map((f) => `${f.name} → ${f.path}`).join(', ') };
  }
  return {
    check: PreflightChecks.binaries,
    status: CheckStatuses.failed,
    summary: missing.map((m) => `${m.role} "${m.name}" was not found${m.name.includes('/') ? ' (or is not executable)' : ' on PATH'}`).join('; '),
    remedy: 'install it on the orchestrator host (and the executors), or fix the task\'s test command',
  };
}

const OPERATION_REMEDY: Record<GitOperation, string> = {
  merge: 'finish the merge (commit) or abort it (git merge --abort)',
  rebase: 'finish the rebase (git rebase --continue) or abort it (git rebase --abort)',
  'cherry-pick': 'finish the cherry-pick (git cherry-pick --continue) or abort it (git cherry-pick --abort)',
  revert: 'finish the revert (git revert --continue) or abort it (git revert --abort)',
  bisect: 'end the bisect (git bisect reset)',
};

/**
 * Not mid-merge/rebase/cherry-pick/revert/bisect, and HEAD on a branch unless a detached HEAD
 * is allowed. Preflight never finishes or aborts an operation for the user: it cannot know which
 * they meant.
 */
export function judgeRepository(state: RepositoryState, allowDetachedHead: boolean): CheckOutcome {
  if (state.inProgress.length > 0) {
    return {
      check: PreflightChecks.repository,
      status: CheckStatuses.failed,
      summary: `the repository is in the middle of ${state.inProgress.map((op) => `a ${op}`).join(' and ')}`,
      remedy: state.inProgress.map((op) => OPERATION_REMEDY[op]).join('; '),
    };
  }
  if (state.detachedHead && !allowDetachedHead) {
    return {
      check: PreflightChecks.repository,
      status: CheckStatuses.failed,
      summary: 'HEAD is detached (not on a branch)',
      remedy: 'check out a branch (git switch <branch>), or allow it with "allowDetachedHead": true in .maestro/preflight.json',
    };
  }
  return {
    check: PreflightChecks.repository,
    status: CheckStatuses.passed,
    summary: `no merge, rebase, cherry-pick, revert or bisect in progress; HEAD ${state.detachedHead ? 'detached (allowed)' : 'on a branch'}${state.hasCommit ? '' : ', no commit yet'}`,
  };
}

/** What to do about `index.lock` as it is now. */
export type IndexLockDecision =
  | { kind: 'absent' }
  | { kind: 'remove' }
  | { kind: 'held'; reason: string }
  | { kind: 'uncertain'; reason: string };

/**
 * A lock is removed only when it is certainly stale: no live process here has it (or any file
 * of the git dir) open, no live git process works in the repository, every process could be
 * inspected, and the lock is older than `minAgeMs` (a git in another PID namespace is invisible).
 */
export function decideIndexLock(lock: IndexLockObservation, minAgeMs: number): IndexLockDecision {
  if (!lock.present) return { kind: 'absent' };
  if (lock.holders.length > 0) {
    const who = lock.holders.map((h) => `pid ${h.pid} (${h.command}, ${h.reason === 'open-file' ? 'has a file of the git dir open' : 'git working in the repository'})`);
    return { kind: 'held', reason: `${lock.path} is held by ${who.join(', ')}` };
  }
  if (lock.uninspectable > 0) {
    return { kind: 'uncertain', reason: `${lock.path} exists and ${lock.uninspectable} process${lock.uninspectable === 1 ? '' : 'es'} could not be inspected, so it may be in use` };
  }
  if (lock.ageMs < minAgeMs) {
    return {
      kind: 'uncertain',
      reason: `${lock.path} is only ${seconds(lock.ageMs)} old and no process here holds it; a git on another host or container may (it is removed only once older than ${seconds(minAgeMs)})`,
    };
  }
  return { kind: 'remove' };
}

/**
 * What a removal of a lock judged stale means for the check: `remove` (done), undefined (the
 * lock was gone already: look again), `held` (a new git's lock was found in its place and put
 * back: wait for it like any held lock), or `uncertain` (a lock that was not the judged one
 * could not be put back because yet another one appeared: a person must look).
 */
export function afterLockRemoval(removal: StaleLockRemoval, path: string): IndexLockDecision | undefined {
  switch (removal.kind) {
    case 'removed':
      return { kind: 'remove' };
    case 'gone':
      return undefined;
    case 'changed':
      return removal.restored
        ? { kind: 'held', reason: `${path} was made anew by another git while the stale one was being removed; the new one was left in place` }
        : {
            kind: 'uncertain',
            reason: `${path} changed while the stale one was being removed: the file moved aside to ${removal.quarantine} is a newer lock and could not be put back, because another ${path} appeared`,
          };
  }
}

/** The index-lock check's outcome from the last decision (and whether it was removed). */
export function judgeIndexLock(decision: IndexLockDecision, path: string, waitedMs: number): CheckOutcome {
  switch (decision.kind) {
    case 'absent':
      return { check: PreflightChecks.indexLock, status: CheckStatuses.passed, summary: `no ${path}${waitedMs > 0 ? ` (released after ${seconds(waitedMs)})` : ''}` };
    case 'remove':
      return {
        check: PreflightChecks.indexLock,
        status: CheckStatuses.remedied,
        summary: `removed the stale ${path}: no live process had it or the git dir open and no git process worked in the repository`,
      };
    case 'held':
      return {
        check: PreflightChecks.indexLock,
        status: CheckStatuses.failed,
        summary: `${decision.reason}${waitedMs > 0 ? `, still after waiting ${seconds(waitedMs)}` : ''}`,
        remedy: 'let that git command finish (or stop it), then submit the task again',
      };
    case 'uncertain':
      return {
        check: PreflightChecks.indexLock,
        status: CheckStatuses.failed,
        summary: decision.reason,
        remedy: `if no git command is running on this repository anywhere, delete ${path} and submit the task again`,
      };
  }
}

/** What preflight does with each recorded process: stop it, drop its entry, or leave it. */
export type OrphanAction = 'stop' | 'drop' | 'leave';

/** Only processes we started whose starter is gone are stopped; entries of processes that are gone are dropped. */
export function orphanAction(process: RecordedProcessView): OrphanAction {
  switch (process.state) {
    case 'orphaned':
      return 'stop';
    case 'gone':
    case 'other-boot':
      return 'drop';
    case 'in-use':
    case 'other-namespace':
      return 'leave';
  }
}

/** The orphans check's outcome from what was done to each recorded process. */
export function judgeOrphans(
  handled: ReadonlyArray<{ process: RecordedProcessView; stop?: StopResult }>,
  unreadable: readonly string[],
): CheckOutcome {
  const label = (p: RecordedProcessView): string => `pid ${p.pid} (${p.argv.join(' ').slice(0, 80)}, started ${p.startedAt})`;
  const stopped = handled.filter((h) => h.stop?.outcome === 'stopped-by-sigterm' || h.stop?.outcome === 'stopped-by-sigkill');
  const stuck = handled.filter((h) => h.stop?.outcome === 'still-running' || h.stop?.outcome === 'not-permitted');
  const notOurs = handled.filter((h) => h.stop?.outcome === 'not-ours');
  const dropped = handled.filter((h) => orphanAction(h.process) === 'drop');
  const left = handled.filter((h) => orphanAction(h.process) === 'leave');
  const notes = [
    ...(stopped.length > 0 ? [`stopped ${stopped.length} orphaned process${stopped.length === 1 ? '' : 'es'} of an earlier run: ${stopped.map((h) => `${label(h.process)} by ${h.stop?.outcome === 'stopped-by-sigterm' ? 'SIGTERM' : 'SIGKILL'}`).join(', ')}`] : []),
    ...(notOurs.length > 0 ? [`did not signal ${notOurs.map((h) => `${label(h.process)}: ${h.stop?.reason ?? 'not the recorded process'}`).join(', ')} (its record is kept; stop it by hand if it is ours)`] : []),
    ...(dropped.length > 0 ? [`dropped ${dropped.length} record${dropped.length === 1 ? '' : 's'} of processes that are gone`] : []),
    ...(left.length > 0 ? [`left ${left.length} running: ${left.map((h) => `${label(h.process)}, ${h.process.state === 'in-use' ? 'its starter is still running' : 'recorded in another PID namespace'}`).join(', ')}`] : []),
    ...(unreadable.length > 0 ? [`dropped ${unreadable.length} unreadable record file${unreadable.length === 1 ? '' : 's'}`] : []),
  ];
  if (stuck.length > 0) {
    return {
      check: PreflightChecks.orphans,
      status: CheckStatuses.failed,
      summary: `could not stop ${stuck.map((h) => `${label(h.process)}: ${h.stop?.outcome === 'not-permitted' ? 'not permitted' : 'still running after SIGKILL'}`).join(', ')}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
      remedy: 'stop those processes by hand (kill <pid>), then submit the task again',
    };
  }
  return {
    check: PreflightChecks.orphans,
    status: stopped.length > 0 ? CheckStatuses.remedied : CheckStatuses.passed,
    summary: notes.length > 0 ? notes.join('; ') : 'no process of an earlier run is left',
  };
}

/** Every required port free on every loopback address the host has. */
export function judgePorts(observations: readonly PortObservation[]): CheckOutcome {
  if (observations.length === 0) return { check: PreflightChecks.ports, status: CheckStatuses.passed, summary: 'no ports required' };
  const busy = observations.filter((o) => o.state === 'in-use');
  if (busy.length > 0) {
    return {
      check: PreflightChecks.ports,
      status: CheckStatuses.failed,
      summary: busy.map((o) => `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port} is in use${o.detail !== undefined ? ` (${o.detail})` : ''}`).join(', '),
      remedy: 'stop whatever listens there (ss -ltnp shows it), or change the port the repository needs',
    };
  }
  const ports = [...new Set(observations.map((o) => o.port))];
  const hosts = [...new Set(observations.filter((o) => o.state === 'free').map((o) => o.host))];
  return { check: PreflightChecks.ports, status: CheckStatuses.passed, summary: `port${ports.length === 1 ? '' : 's'} ${ports.join(', ')} free on ${hosts.join(' and ')}` };
}

/** Enough free space on the repository's file system. */
export function judgeDisk(freeBytes: number, minFreeBytes: number, path: string): CheckOutcome {
  if (freeBytes >= minFreeBytes) {
    return { check: PreflightChecks.disk, status: CheckStatuses.passed, summary: `${bytes(freeBytes)} free at ${path} (at least ${bytes(minFreeBytes)} needed)` };
  }
  return {
    check: PreflightChecks.disk,
    status: CheckStatuses.failed,
    summary: `only ${bytes(freeBytes)} free at ${path}; at least ${bytes(minFreeBytes)} is needed`,
    remedy: 'free space on that file system, or lower "minFreeDiskBytes" in .maestro/preflight.json',
  };
}

/** What the baseline says: the failing tests (when named) and a record for the run's context. */
export interface BaselineSummary {
  outcome: CheckOutcome;
  /** Tests that already fail on HEAD, by name; empty when none fail or their names are unknown. */
  failures: string[];
  record: {
    command: string[];
    exitCode: number | null;
    timedOut: boolean;
    /** False when the baseline failed but its failing tests could not be named. */
    namesKnown: boolean;
    note: string;
  };
}

/**
 * Judges the baseline run. It never stops the run: a red baseline is a fact the agents must know
 * (their gate forgives exactly these failures), not a reason to refuse.
 */
export function summarizeBaseline(command: readonly string[], run: BaselineRun, failing: FailingTests | undefined, timeoutMs: number): BaselineSummary {
  const record = (namesKnown: boolean, note: string): BaselineSummary['record'] => ({ command: [...command], exitCode: run.exitCode, timedOut: run.timedOut, namesKnown, note });
  const housekeeping = run.notes !== undefined && run.notes.length > 0 ? `; ${run.notes.join('; ')}` : '';
  const outcome = (summary: string): CheckOutcome => ({ check: PreflightChecks.baseline, status: CheckStatuses.passed, summary: `${summary}${housekeeping}` });
  if (run.error !== undefined) {
    const note = `baseline could not run: ${run.error}`;
    return { outcome: outcome(note), failures: [], record: record(false, note) };
  }
  if (run.timedOut) {
    const note = `baseline timed out after ${seconds(timeoutMs)}; failing tests unknown`;
    return { outcome: outcome(note), failures: [], record: record(false, note) };
  }
  if (run.exitCode === 0) return { outcome: outcome(`${command.join(' ')} passes on HEAD`), failures: [], record: record(true, 'baseline passed') };
  if (failing?.known === true && run.truncated === 0) {
    const note = `baseline failed (exit ${run.exitCode ?? 'by signal'}) in ${failing.names.length} test${failing.names.length === 1 ? '' : 's'}: ${failing.names.join(', ')}`;
    return { outcome: outcome(note), failures: [...failing.names], record: record(true, note) };
  }
  const why = run.truncated > 0 ? 'its output was too long to read whole' : failing?.known === false ? failing.reason : 'no names found';
  const note = `baseline failed, test names unknown (exit ${run.exitCode ?? 'by signal'}; ${why})`;
  return { outcome: outcome(note), failures: [], record: record(false, note) };
}
