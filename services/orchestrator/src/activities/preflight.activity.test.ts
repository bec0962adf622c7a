/**
 * The preflight activity's sequence over a scripted probe and a manual clock: waiting for a held
 * index.lock, giving up on it, stopping orphans, and checks skipped when git is missing. The
 * real machine is exercised in `store/fs-preflight-probe.test.ts` and `test/preflight.int.test.ts`.
 */
import { createSilentLogger, ManualClock, UserError } from '@maestro/runtime';
import type { AgentStepRecord } from '../domain/agent-step.js';
import type { IndexLockObservation, PreflightProbe, RecordedProcessView, RepositoryState, StaleLockRemoval } from '../domain/preflight/preflight-probe.js';
import type { TaskRecord } from '../domain/task.js';
import type { TaskPatch } from '../store/task-store.js';
import type { ActivityDeps, ActivityOutcome } from './activity.js';
import { preflightActivity } from './preflight.activity.js';

const repoPath = '/repos/calc';
const state: RepositoryState = { gitDir: `${repoPath}/.git`, commonDir: `${repoPath}/.git`, inProgress: [], detachedHead: false, hasCommit: true };
const lockPath = `${repoPath}/.git/index.lock`;

function scriptedProbe(overrides: Partial<PreflightProbe> = {}): PreflightProbe & { removed: string[]; dropped: string[] } {
  const removed: string[] = [];
  const dropped: string[] = [];
  return {
    removed,
    dropped,
    findExecutable: async (name) => `/usr/bin/${name}`,
    repositoryState: async () => state,
    portState: async (host, port) => ({ host, port, state: 'free' }),
    indexLock: async () => ({ present: false, path: lockPath }),
    removeStaleLock: async (lock) => (removed.push(lock.path), { kind: 'removed' }),
    freeDiskBytes: async () => 10 * 1024 ** 3,
    recordedProcesses: async () => ({ processes: [], unreadable: [], trustedRoots: [repoPath] }),
    stopProcess: async () => ({ outcome: 'stopped-by-sigterm' }),
    dropRecord: async (file) => void dropped.push(file),
    runBaseline: async () => ({ exitCode: 0, timedOut: false, output: 'ok 1 - adds\n', truncated: 0 }),
    ...overrides,
  };
}

function invoke(probe: PreflightProbe, clock: ManualClock, steps: AgentStepRecord[] = [], patches: TaskPatch[] = []): Promise<ActivityOutcome> {
  const task = { id: 't1', repoPath, testCommand: ['node', '--test'], status: 'running' } as unknown as TaskRecord;
  const deps = {
    store: {
      getTask: async () => ({ task, subtasks: [] }),
      withLockedTask: async (_id: string, fn: (locked: { update(patch: TaskPatch): Promise<TaskRecord> }) => Promise<unknown>) =>
        fn({ update: async (patch) => (patches.push(patch), task) }),
    },
    repoProbe: { readText: async () => undefined },
    clock,
    steps: { record: async (step: AgentStepRecord) => void steps.push(step) },
    // The probe comes from the deps (wired in orchestrator.ts), never made by the activity.
    preflightProbe: probe,
  } as unknown as ActivityDeps;
  const request = { workId: 'r:preflight:1', runId: 'r', state: 'preflight', activity: 'preflight', attempt: 1, context: { input: { taskId: 't1' } }, requestedAt: '' };
  return preflightActivity({ request, taskId: 't1', deps, logger: createSilentLogger(), signal: new AbortController().signal });
}

/** Runs `work`, advancing the manual clock whenever it waits. */
async function drive<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let settled = false;
  const done = work.finally(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise((r) => setImmediate(r));
    if (clock.pendingTimers > 0) clock.advance(500);
  }
  return done;
}

const identity = { dev: 1, ino: 7, mtimeMs: 0 };
const held: IndexLockObservation = { present: true, path: lockPath, identity, ageMs: 1_000, holders: [{ pid: 42, command: 'git', reason: 'open-file' }], uninspectable: 0 };
const stale: IndexLockObservation = { present: true, path: lockPath, identity, ageMs: 3_600_000, holders: [], uninspectable: 0 };

describe('the preflight activity', () => {
  it('waits for a held index.lock and goes on once it is released', async () => {
    const clock = new ManualClock(0);
    let looks = 0;
    const probe = scriptedProbe({ indexLock: async () => (++looks < 4 ? held : { present: false, path: lockPath }) });
    const patches: TaskPatch[] = [];
    const outcome = await drive(clock, invoke(probe, clock, [], patches));
    expect(outcome.kind).toBe('completed');
    const checks = outcome.kind === 'completed' ? (outcome.output.checks as Array<{ check: string; status: string; summary: string }>) : [];
    expect(checks.find((c) => c.check === 'index-lock')).toMatchObject({ status: 'passed', summary: expect.stringContaining('released after') });
    expect(probe.removed).toEqual([]);
    // The baseline (all passing here) is stored on the task for every dispatch.
    expect(patches).toEqual([{ baselineFailures: [], baselineExitCode: null }]);
  });

  it('gives up on a lock still held after the wait, naming the holder, and runs no baseline', async () => {
    const clock = new ManualClock(0);
    let baselines = 0;
    const probe = scriptedProbe({ indexLock: async () => held, runBaseline: async () => (baselines++, { exitCode: 0, timedOut: false, output: '', truncated: 0 }) });
    const steps: AgentStepRecord[] = [];
    const failure = await drive(clock, invoke(probe, clock, steps).then(() => undefined, (err: unknown) => err));
    expect(failure).toBeInstanceOf(UserError);
    expect(failure).toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining('is held by pid 42 (git, has a file of the git dir open), still after waiting 10 s') });
    expect(baselines).toBe(0);
    expect(probe.removed).toEqual([]);
    expect(steps.map((s) => [s.step, s.tool, s.ok])).toEqual([
      [1, 'preflight.binaries', true],
      [2, 'preflight.repository', true],
      [3, 'preflight.index-lock', false],
      [4, 'preflight.orphans', true],
      [5, 'preflight.ports', true],
      [6, 'preflight.disk', true],
      [7, 'preflight.baseline', true],
      [8, null, false],
    ]);
  });

  it('removes a stale lock only through the probe\'s checked removal', async () => {
    const clock = new ManualClock(0);
    let looks = 0;
    const probe = scriptedProbe({ indexLock: async () => (++looks === 1 ? stale : { present: false, path: lockPath }) });
    const outcome = await drive(clock, invoke(probe, clock));
    const checks = outcome.kind === 'completed' ? (outcome.output.checks as Array<{ check: string; status: string }>) : [];
    expect(checks.find((c) => c.check === 'index-lock')?.status).toBe('remedied');
    expect(probe.removed).toEqual([lockPath]);
  });

  it('waits for a new lock that replaced the stale one between the scan and the removal, and removes nothing', async () => {
    const clock = new ManualClock(0);
    const removals: StaleLockRemoval[] = [];
    let looks = 0;
    const probe = scriptedProbe({
      // First the stale lock; then (after it was put back) a new git's lock, held; then released.
      indexLock: async () => [stale, held, held][looks++] ?? { present: false, path: lockPath },
      removeStaleLock: async () => {
        const removal: StaleLockRemoval = { kind: 'changed', restored: true };
        removals.push(removal);
        return removal;
      },
    });
    const outcome = await drive(clock, invoke(probe, clock));
    expect(removals).toHaveLength(1);
    const checks = outcome.kind === 'completed' ? (outcome.output.checks as Array<{ check: string; status: string; summary: string }>) : [];
    expect(checks.find((c) => c.check === 'index-lock')).toMatchObject({ status: 'passed', summary: expect.stringContaining('released after') });
  });

  it('fails, naming the quarantine file, when a replaced lock could not be put back', async () => {
    const clock = new ManualClock(0);
    const probe = scriptedProbe({
      indexLock: async () => stale,
      removeStaleLock: async () => ({ kind: 'changed', restored: false, quarantine: `${lockPath}.maestro-stale-1` }),
    });
    const failure = await drive(clock, invoke(probe, clock).then(() => undefined, (err: unknown) => err));
    expect(failure).toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining(`moved aside to ${lockPath}.maestro-stale-1 is a newer lock`) });
  });

  it('does not count a process the probe refused to signal as stopped, and keeps its record', async () => {
    const clock = new ManualClock(0);
    const view: RecordedProcessView = { file: '/reg/9', pid: 9, startTicks: 1, argv: ['npm', 'run', 'dev'], cmdline: ['npm', 'run', 'dev'], startedAt: 't', state: 'orphaned' };
    const roots: Array<readonly string[]> = [];
    const probe = scriptedProbe({
      recordedProcesses: async () => ({ processes: [view], unreadable: [], trustedRoots: [repoPath, '/wt/a'] }),
      stopProcess: async (_p, _g, _c, trusted) => (roots.push(trusted), { outcome: 'not-ours', reason: 'its working directory /home/u is not inside the repository or one of its worktrees' }),
    });
    const outcome = await invoke(probe, clock);
    expect(roots).toEqual([[repoPath, '/wt/a']]);
    expect(probe.dropped).toEqual([]);
    const checks = outcome.kind === 'completed' ? (outcome.output.checks as Array<{ check: string; status: string; summary: string }>) : [];
    expect(checks.find((c) => c.check === 'orphans')).toMatchObject({ status: 'passed', summary: expect.stringContaining('did not signal pid 9 (npm run dev, started t): its working directory /home/u') });
  });

  it('stops orphans, drops records of gone processes, and leaves processes in use', async () => {
    const clock = new ManualClock(0);
    const view = (pid: number, processState: RecordedProcessView['state']): RecordedProcessView => ({ file: `/reg/${pid}`, pid, startTicks: 1, argv: ['npm', 'run', 'dev'], cmdline: ['npm', 'run', 'dev'], startedAt: 't', state: processState });
    const stopped: number[] = [];
    const probe = scriptedProbe({
      recordedProcesses: async () => ({ processes: [view(1, 'orphaned'), view(2, 'gone'), view(3, 'in-use')], unreadable: ['/reg/junk'], trustedRoots: [repoPath] }),
      stopProcess: async (p) => (stopped.push(p.pid), { outcome: 'stopped-by-sigkill' }),
    });
    const outcome = await invoke(probe, clock);
    expect(stopped).toEqual([1]);
    expect(probe.dropped.sort()).toEqual(['/reg/1', '/reg/2', '/reg/junk']);
    const checks = outcome.kind === 'completed' ? (outcome.output.checks as Array<{ check: string; status: string }>) : [];
    expect(checks.find((c) => c.check === 'orphans')?.status).toBe('remedied');
  });

  it('skips the git checks when git is missing, and reports it', async () => {
    const clock = new ManualClock(0);
    const probe = scriptedProbe({ findExecutable: async (name) => (name === 'git' ? undefined : `/usr/bin/${name}`) });
    await expect(invoke(probe, clock)).rejects.toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining('git "git" was not found on PATH') });
  });
});
