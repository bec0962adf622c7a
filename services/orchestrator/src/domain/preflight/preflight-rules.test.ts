import { CheckStatuses, violationMessage } from './preflight-check.js';
import type { RecordedProcessView, RepositoryState } from './preflight-probe.js';
import { afterLockRemoval, decideIndexLock, judgeBinaries, judgeDisk, judgeIndexLock, judgeOrphans, judgePorts, judgeRepository, orphanAction, summarizeBaseline } from './preflight-rules.js';

const clean: RepositoryState = { gitDir: '/r/.git', commonDir: '/r/.git', inProgress: [], detachedHead: false, hasCommit: true };
const lockPath = '/r/.git/index.lock';
const identity = { dev: 1, ino: 2, mtimeMs: 0 };

describe('preflight rules', () => {
  it('binaries: passes when every program is found, names each missing one', () => {
    expect(judgeBinaries([{ name: 'git', role: 'git', path: '/usr/bin/git' }]).status).toBe('passed');
    const missing = judgeBinaries([
      { name: 'git', role: 'git', path: '/usr/bin/git' },
      { name: 'pytest', role: "the test command's program", path: undefined },
    ]);
    expect(missing).toMatchObject({ status: 'failed', summary: 'the test command\'s program "pytest" was not found on PATH' });
  });

  it('repository: refuses an operation in progress with how to end it, and a detached HEAD unless allowed', () => {
    expect(judgeRepository(clean, false).status).toBe('passed');
    expect(judgeRepository({ ...clean, inProgress: ['rebase'], detachedHead: true }, false)).toMatchObject({
      status: 'failed',
      summary: 'the repository is in the middle of a rebase',
      remedy: expect.stringContaining('git rebase --abort'),
    });
    expect(judgeRepository({ ...clean, inProgress: ['cherry-pick', 'bisect'] }, true).summary).toBe('the repository is in the middle of a cherry-pick and a bisect');
    expect(judgeRepository({ ...clean, detachedHead: true }, false)).toMatchObject({ status: 'failed', summary: 'HEAD is detached (not on a branch)' });
    expect(judgeRepository({ ...clean, detachedHead: true }, true).status).toBe('passed');
  });

  it('index.lock: removes only an old lock nobody here holds; waits on a held one; refuses when unsure', () => {
    expect(decideIndexLock({ present: false, path: lockPath }, 60_000)).toEqual({ kind: 'absent' });
    expect(decideIndexLock({ present: true, path: lockPath, identity, ageMs: 120_000, holders: [], uninspectable: 0 }, 60_000)).toEqual({ kind: 'remove' });
    expect(decideIndexLock({ present: true, path: lockPath, identity, ageMs: 120_000, holders: [{ pid: 7, command: 'git', reason: 'git-cwd' }], uninspectable: 0 }, 60_000)).toMatchObject({ kind: 'held' });
    expect(decideIndexLock({ present: true, path: lockPath, identity, ageMs: 120_000, holders: [], uninspectable: 2 }, 60_000)).toMatchObject({ kind: 'uncertain' });
    expect(decideIndexLock({ present: true, path: lockPath, identity, ageMs: 5_000, holders: [], uninspectable: 0 }, 60_000)).toMatchObject({ kind: 'uncertain' });

    expect(judgeIndexLock({ kind: 'remove' }, lockPath, 0).status).toBe(CheckStatuses.remedied);
    // After the checked removal: done, look again, wait for the new lock, or ask a person.
    expect(afterLockRemoval({ kind: 'removed' }, lockPath)).toEqual({ kind: 'remove' });
    expect(afterLockRemoval({ kind: 'gone' }, lockPath)).toBeUndefined();
    expect(afterLockRemoval({ kind: 'changed', restored: true }, lockPath)).toMatchObject({ kind: 'held' });
    expect(afterLockRemoval({ kind: 'changed', restored: false, quarantine: `${lockPath}.q` }, lockPath)).toMatchObject({ kind: 'uncertain', reason: expect.stringContaining(`${lockPath}.q`) });
    expect(judgeIndexLock({ kind: 'held', reason: `${lockPath} is held by pid 7 (git)` }, lockPath, 10_000)).toMatchObject({
      status: 'failed',
      summary: `${lockPath} is held by pid 7 (git), still after waiting 10 s`,
    });
    expect(judgeIndexLock({ kind: 'uncertain', reason: 'young' }, lockPath, 0).remedy).toContain(`delete ${lockPath}`);
  });

  it('orphans: stops only orphans, drops the gone, leaves processes in use; fails when one cannot be stopped', () => {
    const view = (state: RecordedProcessView['state'], pid = 10): RecordedProcessView => ({ file: `/f/${pid}`, pid, startTicks: 1, argv: ['npm', 'run', 'dev'], cmdline: ['npm', 'run', 'dev'], startedAt: 't', state });
    expect(['orphaned', 'gone', 'other-boot', 'in-use', 'other-namespace'].map((s) => orphanAction(view(s as RecordedProcessView['state'])))).toEqual(['stop', 'drop', 'drop', 'leave', 'leave']);
    expect(judgeOrphans([], []).summary).toBe('no process of an earlier run is left');
    const remedied = judgeOrphans([{ process: view('orphaned'), stop: { outcome: 'stopped-by-sigkill' } }, { process: view('gone', 11) }, { process: view('in-use', 12) }], []);
    expect(remedied.status).toBe('remedied');
    expect(remedied.summary).toContain('stopped 1 orphaned process of an earlier run: pid 10 (npm run dev, started t) by SIGKILL');
    expect(remedied.summary).toContain('dropped 1 record of processes that are gone');
    expect(remedied.summary).toContain('left 1 running: pid 12');
    expect(judgeOrphans([{ process: view('orphaned'), stop: { outcome: 'not-permitted' } }], [])).toMatchObject({ status: 'failed', remedy: expect.stringContaining('kill <pid>') });
    // A process that is not the recorded command (or works outside the repository) is reported, not counted as stopped.
    expect(judgeOrphans([{ process: view('orphaned'), stop: { outcome: 'not-ours', reason: 'its command line "vim" is not the recorded "npm run dev"' } }], [])).toMatchObject({
      status: 'passed',
      summary: expect.stringContaining('did not signal pid 10 (npm run dev, started t): its command line "vim" is not the recorded "npm run dev"'),
    });
  });

  it('ports and disk', () => {
    expect(judgePorts([]).status).toBe('passed');
    expect(judgePorts([{ host: '127.0.0.1', port: 3000, state: 'free' }, { host: '::1', port: 3000, state: 'free' }]).summary).toBe('port 3000 free on 127.0.0.1 and ::1');
    expect(judgePorts([{ host: '::1', port: 3000, state: 'in-use', detail: 'EADDRINUSE' }])).toMatchObject({ status: 'failed', summary: '[::1]:3000 is in use (EADDRINUSE)' });
    expect(judgeDisk(2 * 1024 ** 3, 1024 ** 3, '/r').status).toBe('passed');
    expect(judgeDisk(100 * 1024 ** 2, 1024 ** 3, '/r')).toMatchObject({ status: 'failed', summary: 'only 100 MiB free at /r; at least 1.0 GiB is needed' });
  });

  it('baseline: names known failures, says when names are unknown, and never fails the run', () => {
    const command = ['npm', 'test'];
    const known = summarizeBaseline(command, { exitCode: 1, timedOut: false, output: '', truncated: 0 }, { known: true, names: ['a'], formats: ['tap'] }, 1000);
    expect(known).toMatchObject({ failures: ['a'], record: { namesKnown: true, exitCode: 1 }, outcome: { status: 'passed' } });
    const unknown = summarizeBaseline(command, { exitCode: 2, timedOut: false, output: '', truncated: 0 }, { known: false, reason: 'no names' }, 1000);
    expect(unknown).toMatchObject({ failures: [], record: { namesKnown: false, exitCode: 2, note: expect.stringMatching(/^baseline failed, test names unknown \(exit 2/) } });
    const cut = summarizeBaseline(command, { exitCode: 1, timedOut: false, output: '', truncated: 5 }, { known: true, names: ['a'], formats: ['tap'] }, 1000);
    expect(cut).toMatchObject({ failures: [], record: { namesKnown: false } });
    expect(summarizeBaseline(command, { exitCode: null, timedOut: true, output: '', truncated: 0 }, undefined, 60_000).record.note).toBe('baseline timed out after 60 s; failing tests unknown');
    expect(summarizeBaseline(command, { exitCode: 0, timedOut: false, output: '', truncated: 0 }, undefined, 1000)).toMatchObject({ failures: [], record: { namesKnown: true } });
  });

  it('lists every violation with what to do in one message', () => {
    const message = violationMessage([
      judgePorts([{ host: '127.0.0.1', port: 3000, state: 'in-use' }]),
      judgeDisk(0, 1024 ** 3, '/r'),
      judgeBinaries([{ name: 'git', role: 'git', path: '/usr/bin/git' }]),
    ]);
    expect(message).toMatch(/^preflight found 2 problems .*no model was asked and nothing was planned: \(1\) ports: 127\.0\.0\.1:3000 is in use — stop whatever listens there.*; \(2\) disk: only 0 MiB free at \/r/);
  });
});
