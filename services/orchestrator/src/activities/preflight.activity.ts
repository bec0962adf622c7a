/**
 * `preflight`: phase zero. Before any model is asked, checks the physical world the run will
 * work in, repairs only what is certainly safe to repair, and otherwise stops the run with a
 * message that lists every problem and what to do about it (`PREFLIGHT_FAILED`).
 *
 * Checks, in order (each recorded as a step of the task, subtask `preflight`, executor `orion`):
 * 1. `binaries`: `git`, and the test command's program (`argv[0]` on PATH, or as a path from the
 *    repository), can be executed;
 * 2. `repository`: not in the middle of a merge, rebase, cherry-pick, revert or bisect; HEAD on
 *    a branch unless `allowDetachedHead` (never repaired: only the user knows which way to go);
 * 3. `index-lock`: no `<git-dir>/index.lock`; one held by a live process is waited for a while;
 *    one that is certainly stale (see `decideIndexLock`) is removed;
 * 4. `orphans`: processes our `runCommand` started in this repository whose starter is gone are
 *    stopped (SIGTERM, then SIGKILL), found by the pid and start time we recorded;
 * 5. `ports`: each required port can be bound on 127.0.0.1 and ::1;
 * 6. `disk`: enough free space on the repository's file system;
 * 7. `baseline`: when all else passed, the test command runs once on HEAD in a temporary
 *    worktree; the tests that already fail are the output's `baselineFailures`.
 *
 * Settings come from the run context's `preflight` and the repository's `.maestro/preflight.json`
 * (see `preflight-settings.ts`).
 */
import path from 'node:path';
import { failingTestNames } from '@maestro/agent';
import { UserError, type Clock } from '@maestro/runtime';
import type { AgentStepRecord } from '../domain/agent-step.js';
import { CheckStatuses, PreflightChecks, PreflightErrorCodes, isClear, stepSummary, violationMessage, type CheckOutcome, type PreflightCheck } from '../domain/preflight/preflight-check.js';
import type { PreflightProbe, RepositoryState } from '../domain/preflight/preflight-probe.js';
import { afterLockRemoval, decideIndexLock, judgeBinaries, judgeDisk, judgeIndexLock, judgeOrphans, judgePorts, judgeRepository, orphanAction, summarizeBaseline, type BaselineSummary } from '../domain/preflight/preflight-rules.js';
import { PREFLIGHT_REPO_FILE, PreflightDefaults, resolvePreflightSettings, type PreflightSettings } from '../domain/preflight/preflight-settings.js';
import type { TaskRecord } from '../domain/task.js';
import { completed, requireTask, type Activity, type ActivityInvocation } from './activity.js';

/** Error code of a run preflight stopped (re-exported for the activity's callers). */
export const PREFLIGHT_FAILED = PreflightErrorCodes.failed;

/** The loopback addresses a required port must be free on (::1 only where the host has IPv6). */
const LOOPBACK_HOSTS = ['127.0.0.1', '::1'] as const;

/** The subtask and executor ids preflight's steps are recorded under. */
export const PreflightStepIdentity = { subtaskId: 'preflight', executorId: 'orion' } as const;

type Note = (outcome: CheckOutcome) => Promise<void>;

function skipped(check: PreflightCheck, why: string): CheckOutcome {
  return { check, status: CheckStatuses.skipped, summary: why };
}

/**
 * Waits for a held lock up to `lockWaitMs`, removes a certainly stale one, and judges the rest.
 * Between the /proc scan and the removal the user may delete the stale lock and a new git make
 * a fresh one: the probe removes the lock only if it is still the file observed (device, inode,
 * modification time), else puts it back and the new lock is waited for like any held one.
 */
async function checkIndexLock(probe: PreflightProbe, state: RepositoryState, repoPath: string, settings: PreflightSettings, clock: Clock, signal: AbortSignal): Promise<CheckOutcome> {
  for (let waited = 0; ; waited += PreflightDefaults.lockPollMs) {
    const lock = await probe.indexLock(state, repoPath);
    let decision = decideIndexLock(lock, settings.staleLockMinAgeMs);
    if (decision.kind === 'remove' && lock.present) {
      const after = afterLockRemoval(await probe.removeStaleLock(lock), lock.path);
      // Removed by someone else first: look again at once (it is most likely absent now).
      if (after === undefined) {
        waited -= PreflightDefaults.lockPollMs;
        continue;
      }
      decision = after;
    }
    if (decision.kind !== 'held' || waited >= settings.lockWaitMs) return judgeIndexLock(decision, lock.path, waited);
    await clock.sleep(PreflightDefaults.lockPollMs, signal);
  }
}

/** Stops our orphaned processes, drops records of processes that are gone, leaves the rest. */
async function checkOrphans(probe: PreflightProbe, commonDir: string, repoPath: string, settings: PreflightSettings, clock: Clock): Promise<CheckOutcome> {
  const { processes, unreadable, trustedRoots } = await probe.recordedProcesses(commonDir, repoPath);
  const handled: Parameters<typeof judgeOrphans>[0][number][] = [];
  for (const recorded of processes) {
    const action = orphanAction(recorded);
    if (action === 'stop') {
      const stop = await probe.stopProcess(recorded, settings.stopGraceMs, clock, trustedRoots);
      if (stop.outcome === 'stopped-by-sigterm' || stop.outcome === 'stopped-by-sigkill') await probe.dropRecord(recorded.file);
      handled.push({ process: recorded, stop });
    } else {
      if (action === 'drop') await probe.dropRecord(recorded.file);
      handled.push({ process: recorded });
    }
  }
  for (const file of unreadable) await probe.dropRecord(file);
  return judgeOrphans(handled, unreadable);
}

async function checkPorts(probe: PreflightProbe, ports: readonly number[]): Promise<CheckOutcome> {
  const observations = [];
  for (const port of ports) {
    for (const host of LOOPBACK_HOSTS) observations.push(await probe.portState(host, port));
  }
  return judgePorts(observations.filter((o) => o.state !== 'unavailable'));
}

async function checkBaseline(probe: PreflightProbe, task: TaskRecord, settings: PreflightSettings, signal: AbortSignal): Promise<BaselineSummary> {
  const run = await probe.runBaseline(task.repoPath, task.testCommand, settings.baselineTimeoutMs, signal);
  const failing = run.exitCode !== null && run.exitCode !== 0 && !run.timedOut && run.error === undefined ? failingTestNames(run.output, run.cwd !== undefined ? { cwd: run.cwd } : {}) : undefined;
  return summarizeBaseline(task.testCommand, run, failing, settings.baselineTimeoutMs);
}

/** Records each outcome as a step of the task (when the deps carry a step store) and logs it. */
function stepRecorder(invocation: ActivityInvocation, task: TaskRecord): { note: Note; verdict(ok: boolean, summary: string): Promise<void> } {
  const steps = invocation.deps.steps;
  if (steps === undefined) invocation.logger.info('preflight checks are not recorded as steps: the activity runner was given no step store');
  let step = 0;
  const record = async (kind: AgentStepRecord['kind'], tool: string | null, summary: string, ok: boolean): Promise<void> => {
    step += 1;
    await steps?.record({
      taskId: task.id,
      runId: invocation.request.runId,
      ...PreflightStepIdentity,
      step,
      kind,
      tool,
      summary,
      ok,
      at: new Date(invocation.deps.clock.now()),
      attempt: invocation.request.attempt,
    });
  };
  return {
    async note(outcome) {
      invocation.logger.info('preflight check', { check: outcome.check, status: outcome.status, summary: outcome.summary });
      await record('tool', `preflight.${outcome.check}`, stepSummary(outcome), outcome.status !== CheckStatuses.failed);
    },
    verdict: (ok, summary) => record('verdict', null, summary, ok),
  };
}

/**
 * The preflight activity, looking at the machine through `deps.preflightProbe` (wired in
 * `orchestrator.ts`). Output: `{ checks: [{ check, status, summary, remedy? }], baselineFailures:
 * string[], baseline: { command, exitCode, timedOut, namesKnown, note } | null, ports: number[] }`;
 * fails with `PREFLIGHT_FAILED` when any check is violated.
 */
export const preflightActivity: Activity = async (invocation) => {
  const { task } = await requireTask(invocation);
  const { deps, signal } = invocation;
  const probe = deps.preflightProbe;
  const settings = resolvePreflightSettings(invocation.request.context.preflight, await deps.repoProbe.readText(path.join(task.repoPath, PREFLIGHT_REPO_FILE)));
  const recorder = stepRecorder(invocation, task);
  const outcomes: CheckOutcome[] = [];
  const note: Note = async (outcome) => {
    outcomes.push(outcome);
    await recorder.note(outcome);
  };

  const program = task.testCommand[0];
  const binaries = [
    { name: 'git', role: 'git', path: await probe.findExecutable('git', task.repoPath) },
    ...(program !== undefined ? [{ name: program, role: "the test command's program", path: await probe.findExecutable(program, task.repoPath) }] : []),
  ];
  await note(judgeBinaries(binaries));
  let state: RepositoryState | undefined;
  if (binaries[0]?.path !== undefined) {
    state = await probe.repositoryState(task.repoPath);
    await note(judgeRepository(state, settings.allowDetachedHead));
    await note(await checkIndexLock(probe, state, task.repoPath, settings, deps.clock, signal));
    await note(await checkOrphans(probe, state.commonDir, task.repoPath, settings, deps.clock));
  } else {
    for (const check of [PreflightChecks.repository, PreflightChecks.indexLock, PreflightChecks.orphans]) await note(skipped(check, 'git is missing'));
  }
  await note(await checkPorts(probe, settings.ports));
  await note(judgeDisk(await probe.freeDiskBytes(task.repoPath), settings.minFreeDiskBytes, task.repoPath));

  let baseline: BaselineSummary | undefined;
  if (!isClear(outcomes)) await note(skipped(PreflightChecks.baseline, 'not run: the checks above found problems'));
  else if (!settings.baseline) await note(skipped(PreflightChecks.baseline, 'turned off by "baseline": false'));
  else if (task.testCommand.length === 0) await note(skipped(PreflightChecks.baseline, 'the task has no test command'));
  else if (state?.hasCommit !== true) await note(skipped(PreflightChecks.baseline, 'the repository has no commit yet'));
  else {
    baseline = await checkBaseline(probe, task, settings, signal);
    await note(baseline.outcome);
  }

  if (!isClear(outcomes)) {
    const message = violationMessage(outcomes);
    await recorder.verdict(false, message);
    throw new UserError(PREFLIGHT_FAILED, message, { reason: 'precondition' });
  }
  const remedied = outcomes.filter((o) => o.status === CheckStatuses.remedied).map((o) => o.check);
  await recorder.verdict(true, `preflight passed${remedied.length > 0 ? ` after remedying ${remedied.join(', ')}` : ''}${baseline ? `; ${baseline.record.note}` : ''}`);
  // Every dispatch of the task's subtasks carries the baseline, so their test gates know it.
  const exitCode = baseline?.record.exitCode;
  const baselineExitCode = exitCode !== undefined && exitCode !== null && exitCode >= 1 && exitCode <= 255 && (baseline?.failures.length ?? 0) > 0 ? exitCode : null;
  await deps.store.withLockedTask(task.id, (locked) => locked.update({ baselineFailures: baseline?.failures ?? [], baselineExitCode }));
  return completed({
    checks: outcomes.map((o) => ({ ...o })),
    baselineFailures: baseline?.failures ?? [],
    baseline: baseline?.record ?? null,
    ports: settings.ports,
  });
};
