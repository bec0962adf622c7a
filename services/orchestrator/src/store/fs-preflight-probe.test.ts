/**
 * The preflight adapters against the real machine: temp git repositories, real sockets, real
 * processes started here and stopped by pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, realpathSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidRegistryDir, processStartTicks, currentBootId, currentPidNamespace, type RecordedProcess } from '@maestro/agent';
import { ManualClock } from '@maestro/runtime';
import { FsPreflightProbe } from './fs-preflight-probe.js';

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
    function record(pid: number, owner: { pid: number; startTicks: number }, argv: string[]): string {
      const dir = pidRegistryDir(join(repo, '.git'));
      mkdirSync(dir, { recursive: true });
      const startTicks = processStartTicks(pid)!;
      const entry: RecordedProcess = {
        version: 1, pid, startTicks, bootId: currentBootId()!, pidNamespace: currentPidNamespace()!, argv, cwd: repo, startedAt: new Date().toISOString(), owner,
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

    function startDetached(script: string): ChildProcess {
      const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
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

      const { processes, unreadable } = await probe.recordedProcesses(join(repo, '.git'));
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
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(stubborn);
      await new Promise((r) => stubborn.stdout!.once('data', r)); // its SIGTERM handler is in place
      record(polite.pid!, owner, ['node', 'polite']);
      record(stubborn.pid!, owner, ['node', 'stubborn']);
      const { processes } = await probe.recordedProcesses(join(repo, '.git'));
      const clock = new ManualClock(0);

      const politeView = processes.find((p) => p.pid === polite.pid)!;
      expect(await drive(clock, probe.stopProcess(politeView, 5_000, clock))).toBe('stopped-by-sigterm');
      expect(polite.signalCode ?? (await new Promise((r) => polite.on('exit', (_c, s) => r(s))))).toBe('SIGTERM');

      const stubbornView = processes.find((p) => p.pid === stubborn.pid)!;
      expect(await drive(clock, probe.stopProcess(stubbornView, 1_000, clock))).toBe('stopped-by-sigkill');
      expect(stubborn.signalCode ?? (await new Promise((r) => stubborn.on('exit', (_c, s) => r(s))))).toBe('SIGKILL');
    });

    it('never signals a process whose pid was reused: another start time is another process', async () => {
      const bystander = startDetached('setInterval(() => {}, 1000)');
      const clock = new ManualClock(0);
      const view = { file: 'x', pid: bystander.pid!, startTicks: processStartTicks(bystander.pid!)! - 1, argv: ['old'], startedAt: 'then', state: 'orphaned' as const };
      expect(await probe.stopProcess(view, 1_000, clock)).toBe('stopped-by-sigterm');
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      expect(processStartTicks(bystander.pid!)).toBeDefined();
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

    it('reports a command that cannot start, and stops one that runs too long', async () => {
      const missing = await probe.runBaseline(repo, ['no-such-program-maestro'], 10_000, new AbortController().signal);
      expect(missing).toMatchObject({ exitCode: null, error: expect.stringContaining('no-such-program-maestro') });
      const slow = await probe.runBaseline(repo, ['node', '-e', 'setTimeout(() => {}, 60000)'], 300, new AbortController().signal);
      expect(slow.timedOut).toBe(true);
    });
  });

  it('removes files', async () => {
    const file = join(repo, '.git', 'index.lock');
    closeSync(openSync(file, 'w'));
    await probe.removeFile(file);
    expect(existsSync(file)).toBe(false);
  });
});
