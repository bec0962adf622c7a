/**
 * The preflight adapters against the real machine: temp git repositories, real sockets, real
 * processes started here and stopped by pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidRegistryDir, processStartTicks, currentBootId, currentPidNamespace, type RecordedProcess } from '@maestro/agent';
import { ManualClock } from '@maestro/runtime';
import type { IndexLockObservation } from '../domain/preflight/preflight-probe.js';
import { FsPreflightProbe } from './fs-preflight-probe.js';
import { scanLockHolders, type ProcReader } from './proc-lock-inspector.js';

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8', stdio: 'pipe' }).trim();

function makeRepo(root: string, files: Record<string, string> = { 'a.txt': 'a\n' }): string {
  const repo = join(root, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(repo, file), text);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'init');
  return repo;
}

/** Advances a manual clock while `work` is pending, giving real processes a moment between steps. */
async function drive<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let settled = false;
  const done = work.finally(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise((r) => setTimeout(r, 5));
    if (clock.pendingTimers > 0) clock.advance(100);
  }
  return done;
}

function listen(host: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host, port: 0 }, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('FsPreflightProbe', () => {
  let root: string;
  let repo: string;
  const probe = new FsPreflightProbe();
  const children: ChildProcess[] = [];
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-preflight-')));
    repo = makeRepo(root);
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  describe('ports', () => {
    it('says a port with a listener is in use and a released one is free', async () => {
      const { server, port } = await listen('127.0.0.1');
      try {
        expect(await probe.portState('127.0.0.1', port)).toMatchObject({ state: 'in-use', detail: 'EADDRINUSE' });
      } finally {
        await new Promise((r) => server.close(r));
      }
      expect(await probe.portState('127.0.0.1', port)).toEqual({ host: '127.0.0.1', port, state: 'free' });
      // The probe released it at once: binding again works.
      const again = createServer();
      await new Promise<void>((resolve) => again.listen({ host: '127.0.0.1', port }, resolve));
      await new Promise((r) => again.close(r));
    });
  });

  describe('repository state', () => {
    it('reports a clean repository on a branch', async () => {
      const state = await probe.repositoryState(repo);
      expect(state).toEqual({ gitDir: join(repo, '.git'), commonDir: join(repo, '.git'), inProgress: [], detachedHead: false, hasCommit: true });
    });

    it('sees a rebase stopped on a conflict, a merge in progress and a detached HEAD', async () => {
      writeFileSync(join(repo, 'a.txt'), 'main\n');
      git(repo, 'commit', '-qam', 'main change');
      git(repo, 'switch', '-q', '-c', 'topic', 'HEAD~1');
      writeFileSync(join(repo, 'a.txt'), 'topic\n');
      git(repo, 'commit', '-qam', 'topic change');
      expect(() => git(repo, 'rebase', 'main')).toThrow();
      expect(await probe.repositoryState(repo)).toMatchObject({ inProgress: ['rebase'], detachedHead: true });
      git(repo, 'rebase', '--abort');

      expect(() => git(repo, 'merge', 'main')).toThrow();
      expect(await probe.repositoryState(repo)).toMatchObject({ inProgress: ['merge'], detachedHead: false });
      git(repo, 'merge', '--abort');

      git(repo, 'switch', '-q', '--detach', 'HEAD');
      expect(await probe.repositoryState(repo)).toMatchObject({ inProgress: [], detachedHead: true });
    });

    it('finds the common dir of a worktree', async () => {
      git(repo, 'worktree', 'add', '-q', '--detach', join(root, 'wt'));
      const state = await probe.repositoryState(join(root, 'wt'));
      expect(state.commonDir).toBe(join(repo, '.git'));
      expect(state.gitDir).toBe(join(repo, '.git', 'worktrees', 'wt'));
    });
  });

  describe('index.lock', () => {
    it('sees no lock, then an unheld old lock, then a lock a live process holds open', async () => {
      const state = await probe.repositoryState(repo);
      const lockPath = join(repo, '.git', 'index.lock');
      expect(await probe.indexLock(state, repo)).toEqual({ present: false, path: lockPath });

      writeFileSync(lockPath, '');
      const old = new Date(Date.now() - 3_600_000);
      utimesSync(lockPath, old, old);
      const unheld = await probe.indexLock(state, repo);
      expect(unheld).toMatchObject({ present: true, path: lockPath, holders: [], uninspectable: 0 });
      expect(unheld.present && unheld.ageMs).toBeGreaterThan(3_000_000);

      // A process of its own with the lock open (as git has while it writes the index).
      const holder = spawn(process.execPath, ['-e', `require('node:fs').openSync(${JSON.stringify(lockPath)}, 'r'); setInterval(() => {}, 1000)`], { stdio: 'ignore' });
      children.push(holder);
      let seen = await probe.indexLock(state, repo);
      for (let i = 0; i < 200 && seen.present && seen.holders.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = await probe.indexLock(state, repo);
      }
      expect(seen).toMatchObject({ present: true, holders: [{ pid: holder.pid, reason: 'open-file' }] });
    });

    it('counts a git process working in the repository as a holder, but not another process sitting there', async () => {
      const state = await probe.repositoryState(repo);
      writeFileSync(join(repo, '.git', 'index.lock'), '');
      // A git process that stays alive in the repository (it reads stdin until it is closed).
      const gitProcess = spawn('git', ['hash-object', '--stdin'], { cwd: repo, stdio: ['pipe', 'ignore', 'ignore'] });
      const bystander = spawn('sleep', ['30'], { cwd: repo, stdio: 'ignore' });
      children.push(gitProcess, bystander);
      let seen = await probe.indexLock(state, repo);
      for (let i = 0; i < 200 && seen.present && !seen.holders.some((h) => h.pid === gitProcess.pid); i++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = await probe.indexLock(state, repo);
      }
      expect(seen.present && seen.holders).toEqual(expect.arrayContaining([{ pid: gitProcess.pid, command: 'git', reason: 'git-cwd' }]));
      expect(seen.present && seen.holders.some((h) => h.pid === bystander.pid)).toBe(false);
    });
  });

  describe('recorded processes', () => {
    /** A registry entry written as runCommand writes it, for a process started here, "started by" `owner`. */
    function record(pid: number, owner: { pid: number; startTicks: number }, argv: string[], cmdline = liveCmdline(pid)): string {
      const dir = pidRegistryDir(join(repo, '.git'));
      mkdirSync(dir, { recursive: true });
      const startTicks = processStartTicks(pid)!;
      const entry: RecordedProcess = {
        version: 1, pid, startTicks, bootId: currentBootId()!, pidNamespace: currentPidNamespace()!, argv, cmdline, cwd: repo, startedAt: new Date().toISOString(), owner,
      };
      const file = join(dir, `${pid}-${startTicks}.json`);
      writeFileSync(file, JSON.stringify(entry));
      return file;
    }

    /** An owner that has exited: its pid and start time no longer name a live process. */
    async function deadOwner(): Promise<{ pid: number; startTicks: number }> {
      const owner = spawn(process.execPath, ['-e', '']);
      const startTicks = processStartTicks(owner.pid!)!;
      await new Promise((r) => owner.on('close', r));
      return { pid: owner.pid!, startTicks };
    }

    /** What the kernel shows as the process's command line (as runCommand records it). */
    function liveCmdline(pid: number): string[] {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
    }

    function startDetached(script: string, cwd = repo): ChildProcess {
      const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore', cwd });
      children.push(child);
      return child;
    }

    it('classifies orphaned, in-use and gone processes, and skips what is not an entry', async () => {
      const owner = await deadOwner();
      const orphan = startDetached('setInterval(() => {}, 1000)');
      const inUse = startDetached('setInterval(() => {}, 1000)');
      const gone = await deadOwner();
      record(orphan.pid!, owner, ['node', 'dev-server']);
      record(inUse.pid!, { pid: process.pid, startTicks: processStartTicks(process.pid)! }, ['node', 'busy']);
      const goneFile = join(pidRegistryDir(join(repo, '.git')), `${gone.pid}-${gone.startTicks}.json`);
      writeFileSync(goneFile, JSON.stringify({ version: 1, pid: gone.pid, startTicks: gone.startTicks, bootId: currentBootId(), pidNamespace: currentPidNamespace(), argv: ['x'], cwd: repo, startedAt: 'then', owner }));
      writeFileSync(join(pidRegistryDir(join(repo, '.git')), 'junk.json'), 'nope');

      const { processes, unreadable, trustedRoots } = await probe.recordedProcesses(join(repo, '.git'), repo);
      expect(trustedRoots).toEqual([repo]);
      const stateOf = (pid: number | undefined) => processes.find((p) => p.pid === pid)?.state;
      expect(stateOf(orphan.pid)).toBe('orphaned');
      expect(stateOf(inUse.pid)).toBe('in-use');
      expect(stateOf(gone.pid)).toBe('gone');
      expect(unreadable).toEqual([join(pidRegistryDir(join(repo, '.git')), 'junk.json')]);
    });

    it('stops an orphan with SIGTERM, and one that ignores SIGTERM with SIGKILL after the grace time', async () => {
      const owner = await deadOwner();
      const polite = startDetached('setInterval(() => {}, 1000)');
      const stubborn = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')"], {
        detached: true,
        cwd: repo,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(stubborn);
      await new Promise((r) => stubborn.stdout!.once('data', r)); // its SIGTERM handler is in place
      record(polite.pid!, owner, ['node', 'polite']);
      record(stubborn.pid!, owner, ['node', 'stubborn']);
      const { processes, trustedRoots } = await probe.recordedProcesses(join(repo, '.git'), repo);
      const clock = new ManualClock(0);

      const politeView = processes.find((p) => p.pid === polite.pid)!;
      expect(await drive(clock, probe.stopProcess(politeView, 5_000, clock, trustedRoots))).toEqual({ outcome: 'stopped-by-sigterm' });
      expect(polite.signalCode ?? (await new Promise((r) => polite.on('exit', (_c, s) => r(s))))).toBe('SIGTERM');

      const stubbornView = processes.find((p) => p.pid === stubborn.pid)!;
      expect(await drive(clock, probe.stopProcess(stubbornView, 1_000, clock, trustedRoots))).toEqual({ outcome: 'stopped-by-sigkill' });
      expect(stubborn.signalCode ?? (await new Promise((r) => stubborn.on('exit', (_c, s) => r(s))))).toBe('SIGKILL');
    });

    it('never signals a process whose pid was reused: another start time is another process', async () => {
      const bystander = startDetached('setInterval(() => {}, 1000)');
      const clock = new ManualClock(0);
      const view = { file: 'x', pid: bystander.pid!, startTicks: processStartTicks(bystander.pid!)! - 1, argv: ['old'], cmdline: ['old'], startedAt: 'then', state: 'orphaned' as const };
      expect(await probe.stopProcess(view, 1_000, clock, [repo])).toEqual({ outcome: 'stopped-by-sigterm' });
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      expect(processStartTicks(bystander.pid!)).toBeDefined();
    });
  });

  describe('recorded processes that are not what the registry says', () => {
    async function deadOwner(): Promise<{ pid: number; startTicks: number }> {
      const owner = spawn(process.execPath, ['-e', '']);
      const startTicks = processStartTicks(owner.pid!)!;
      await new Promise((r) => owner.on('close', r));
      return { pid: owner.pid!, startTicks };
    }

    /** A forged entry: anyone with our uid can write one, naming any of our processes. */
    function forge(pid: number, owner: { pid: number; startTicks: number }, cmdline: string[]): void {
      const dir = pidRegistryDir(join(repo, '.git'));
      mkdirSync(dir, { recursive: true });
      const startTicks = processStartTicks(pid)!;
      const entry: RecordedProcess = {
        version: 1, pid, startTicks, bootId: currentBootId()!, pidNamespace: currentPidNamespace()!, argv: cmdline, cmdline, cwd: repo, startedAt: 'then', owner,
      };
      writeFileSync(join(dir, `${pid}-${startTicks}.json`), JSON.stringify(entry));
    }

    it('never signals a process working outside the repository and its worktrees, nor one whose command line differs', async () => {
      const owner = await deadOwner();
      const script = 'setInterval(() => {}, 1000)';
      // The user's own process elsewhere, named by a forged entry with its exact command line.
      const elsewhere = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore', cwd: root });
      // A process in the repository, but the entry records another command.
      const other = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore', cwd: repo });
      // A process in a worktree of the repository, recorded as it is: the only one stopped.
      const worktree = join(root, 'wt');
      git(repo, 'worktree', 'add', '-q', '--detach', worktree);
      const ours = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore', cwd: worktree });
      children.push(elsewhere, other, ours);
      forge(elsewhere.pid!, owner, [process.execPath, '-e', script]);
      forge(other.pid!, owner, ['npm', 'run', 'dev']);
      forge(ours.pid!, owner, [process.execPath, '-e', script]);

      const { processes, trustedRoots } = await probe.recordedProcesses(join(repo, '.git'), repo);
      expect(trustedRoots.sort()).toEqual([repo, worktree].sort());
      const clock = new ManualClock(0);
      const stop = (pid: number | undefined) => drive(clock, probe.stopProcess(processes.find((p) => p.pid === pid)!, 1_000, clock, trustedRoots));
      expect(await stop(elsewhere.pid)).toEqual({ outcome: 'not-ours', reason: `its working directory ${root} is not inside the repository or one of its worktrees` });
      expect(await stop(other.pid)).toMatchObject({ outcome: 'not-ours', reason: expect.stringContaining('is not the recorded "npm run dev"') });
      expect(await stop(ours.pid)).toEqual({ outcome: 'stopped-by-sigterm' });
      expect(elsewhere.exitCode === null && elsewhere.signalCode === null).toBe(true);
      expect(other.exitCode === null && other.signalCode === null).toBe(true);
    });
  });

  describe('removing a stale index.lock', () => {
    async function observe(): Promise<Extract<IndexLockObservation, { present: true }>> {
      const seen = await probe.indexLock(await probe.repositoryState(repo), repo);
      if (!seen.present) throw new Error('expected a lock');
      return seen;
    }

    it('removes the very lock it observed', async () => {
      const lockPath = join(repo, '.git', 'index.lock');
      writeFileSync(lockPath, '');
      const lock = await observe();
      expect(lock.identity).toEqual({ dev: statSync(lockPath).dev, ino: statSync(lockPath).ino, mtimeMs: statSync(lockPath).mtimeMs });
      expect(await probe.removeStaleLock(lock)).toEqual({ kind: 'removed' });
      expect(readdirSync(join(repo, '.git')).filter((f) => f.startsWith('index.lock'))).toEqual([]);
    });

    it('puts back a new lock that replaced the observed one between the scan and the removal', async () => {
      const lockPath = join(repo, '.git', 'index.lock');
      writeFileSync(lockPath, 'stale');
      const lock = await observe();
      // The user deletes the stale lock; a new git takes the lock (a new file, another inode).
      rmSync(lockPath);
      writeFileSync(join(repo, '.git', 'keep-inode-busy'), '');
      writeFileSync(lockPath, 'fresh');
      expect(statSync(lockPath).ino === lock.identity.ino && statSync(lockPath).mtimeMs === lock.identity.mtimeMs).toBe(false);
      expect(await probe.removeStaleLock(lock)).toEqual({ kind: 'changed', restored: true });
      expect(readFileSync(lockPath, 'utf8')).toBe('fresh');
      expect(readdirSync(join(repo, '.git')).filter((f) => f.startsWith('index.lock'))).toEqual(['index.lock']);
    });

    it('says a lock someone else removed first is gone', async () => {
      const lockPath = join(repo, '.git', 'index.lock');
      writeFileSync(lockPath, '');
      const lock = await observe();
      rmSync(lockPath);
      expect(await probe.removeStaleLock(lock)).toEqual({ kind: 'gone' });
    });
  });

  describe('lock holders when not root', () => {
    /** A stand-in /proc: pid 100 runs as uid 1000 (us), pid 200 as uid 2000; neither's fds can be read. */
    function fakeProc(): ProcReader {
      const denied = (): never => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      };
      const files: Record<string, string> = {
        '/fake/100/comm': 'node\n',
        '/fake/100/status': 'Name:\tnode\nUid:\t1000\t1000\t1000\t1000\n',
        '/fake/200/comm': 'postgres\n',
        '/fake/200/status': 'Name:\tpostgres\nUid:\t2000\t2000\t2000\t2000\n',
      };
      return {
        readdir: async (dir) => (dir === '/fake' ? ['100', '200', 'self'] : denied()),
        readFile: async (file) => files[file] ?? denied(),
        readlink: async () => denied(),
      };
    }
    const scope = { lockPath: '/r/.git/index.lock', workTree: '/r', gitDirs: ['/r/.git'] };

    it('counts only processes of our own uid as possible holders, and every process as root', async () => {
      expect(await scanLockHolders(scope, { procRoot: '/fake', ownUid: 1000, reader: fakeProc() })).toEqual({ holders: [], uninspectable: 1 });
      expect(await scanLockHolders(scope, { procRoot: '/fake', ownUid: 3000, reader: fakeProc() })).toEqual({ holders: [], uninspectable: 0 });
      expect(await scanLockHolders(scope, { procRoot: '/fake', ownUid: 0, reader: fakeProc() })).toEqual({ holders: [], uninspectable: 2 });
    });
  });

  describe('binaries and disk', () => {
    it('finds git on PATH, a program by path from the repository, and not a missing one', async () => {
      expect(await probe.findExecutable('git', repo)).toMatch(/\/git$/);
      writeFileSync(join(repo, 'run-tests.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      expect(await probe.findExecutable('./run-tests.sh', repo)).toBe(join(repo, 'run-tests.sh'));
      writeFileSync(join(repo, 'not-executable.sh'), '#!/bin/sh\n', { mode: 0o644 });
      expect(await probe.findExecutable('./not-executable.sh', repo)).toBeUndefined();
      expect(await probe.findExecutable('no-such-program-maestro', repo)).toBeUndefined();
    });

    it('measures free disk space', async () => {
      expect(await probe.freeDiskBytes(repo)).toBeGreaterThan(0);
    });
  });

  describe('baseline', () => {
    it('runs the test command on HEAD in a temporary worktree, ignoring uncommitted changes, and removes the worktree', async () => {
      rmSync(repo, { recursive: true, force: true });
      repo = makeRepo(root, {
        'math.test.js': [
          "const test = require('node:test');",
          "const assert = require('node:assert');",
          "test('adds', () => assert.strictEqual(1 + 1, 2));",
          "test('legacy', () => assert.fail('already broken'));",
          '',
        ].join('\n'),
      });
      // An uncommitted change in the user's tree must not be what is tested.
      writeFileSync(join(repo, 'math.test.js'), "require('node:test')('adds', () => {});\n");
      const tmp = join(root, 'tmp');
      mkdirSync(tmp);
      const local = new FsPreflightProbe({ tmpDir: tmp });
      const run = await local.runBaseline(repo, ['node', '--test', '--test-reporter=tap'], 60_000, new AbortController().signal);
      expect(run.exitCode).toBe(1);
      expect(run.output).toContain('not ok 2 - legacy');
      expect(readdirSync(tmp)).toEqual([]);
      expect(git(repo, 'worktree', 'list')).not.toContain('maestro-baseline');
      // The user's change is untouched.
      expect(execFileSync('cat', [join(repo, 'math.test.js')], { encoding: 'utf8' })).toContain("('adds', () => {})");
    });

    it('first removes baseline worktrees a crashed orchestrator left locked, and only those', async () => {
      const tmp = join(root, 'tmp');
      mkdirSync(tmp);
      const crashed = spawn(process.execPath, ['-e', '']);
      const crashedTicks = processStartTicks(crashed.pid!)!;
      await new Promise((r) => crashed.on('close', r));
      const boot = currentBootId()!;
      const add = (dir: string, reason: string): string => {
        mkdirSync(dir, { recursive: true });
        git(repo, 'worktree', 'add', '-q', '--lock', '--reason', reason, '--detach', join(dir, 'tree'), 'HEAD');
        return join(dir, 'tree');
      };
      const leftByCrash = add(join(tmp, 'maestro-baseline-crash1'), `maestro-baseline pid=${crashed.pid} start=${crashedTicks} boot=${boot}`);
      const otherBoot = add(join(tmp, 'maestro-baseline-crash2'), `maestro-baseline pid=${process.pid} start=1 boot=another-boot`);
      const running = add(join(tmp, 'maestro-baseline-live'), `maestro-baseline pid=${process.pid} start=${processStartTicks(process.pid)} boot=${boot}`);
      const notUnderTmp = add(join(root, 'elsewhere', 'maestro-baseline-x'), `maestro-baseline pid=${crashed.pid} start=${crashedTicks} boot=${boot}`);
      const someoneElses = add(join(tmp, 'maestro-baseline-other'), 'in use on host b');

      const local = new FsPreflightProbe({ tmpDir: tmp });
      const run = await local.runBaseline(repo, ['node', '-e', ''], 60_000, new AbortController().signal);
      expect(run.exitCode).toBe(0);
      expect(run.notes).toEqual([`removed 2 baseline worktrees a crashed orchestrator left: ${leftByCrash}, ${otherBoot}`]);
      const listed = git(repo, 'worktree', 'list', '--porcelain');
      expect(listed).not.toContain(leftByCrash);
      expect(listed).not.toContain(otherBoot);
      expect(existsSync(join(tmp, 'maestro-baseline-crash1'))).toBe(false);
      for (const kept of [running, notUnderTmp, someoneElses]) {
        expect(listed).toContain(kept);
        expect(existsSync(kept)).toBe(true);
      }
      expect(readdirSync(tmp).sort()).toEqual(['maestro-baseline-live', 'maestro-baseline-other']);
    });

    it('reports a command that cannot start, and stops one that runs too long', async () => {
      const missing = await probe.runBaseline(repo, ['no-such-program-maestro'], 10_000, new AbortController().signal);
      expect(missing).toMatchObject({ exitCode: null, error: expect.stringContaining('no-such-program-maestro') });
      const slow = await probe.runBaseline(repo, ['node', '-e', 'setTimeout(() => {}, 60000)'], 300, new AbortController().signal);
      expect(slow.timedOut).toBe(true);
    });
  });

});
