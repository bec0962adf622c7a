import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findGitCommonDir, isSameLiveProcess, pidRegistryDir, processCmdline, processStartTicks, readPidRegistry } from './pid-registry.js';
import { runCommand } from './run-command.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** A command that prints its own pid and what the registry holds while it runs. */
const selfReport = (registry: string) => [
  process.execPath,
  '-e',
  `const fs = require('node:fs'); console.log(JSON.stringify({ pid: process.pid, files: fs.readdirSync(${JSON.stringify(registry)}) }));`,
];

describe('the pid registry', () => {
  let root: string;
  let repo: string;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-pids-')));
    repo = join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'a.txt'), 'a\n');
    git(repo, 'add', '.');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds the common dir of a repository, of a subdirectory and of a worktree, and none outside', () => {
    mkdirSync(join(repo, 'sub'));
    git(repo, 'worktree', 'add', '-q', '--detach', join(root, 'wt'));
    expect(findGitCommonDir(repo)).toBe(join(repo, '.git'));
    expect(findGitCommonDir(join(repo, 'sub'))).toBe(join(repo, '.git'));
    expect(findGitCommonDir(join(root, 'wt'))).toBe(join(repo, '.git'));
    expect(findGitCommonDir(root)).toBeUndefined();
  });

  it('records a command runCommand starts while it runs, with its start time, and removes it when it exits', async () => {
    const registry = pidRegistryDir(join(repo, '.git'));
    mkdirSync(registry, { recursive: true });
    const result = await runCommand(selfReport(registry), { cwd: repo });
    expect(result.exitCode).toBe(0);
    const seen = JSON.parse(result.output) as { pid: number; files: string[] };
    expect(seen.files).toHaveLength(1);
    expect(seen.files[0]).toMatch(new RegExp(`^${seen.pid}-\\d+\\.json$`));
    expect(readdirSync(registry)).toEqual([]);
  });

  it('records commands started in a worktree under the repository they belong to', async () => {
    const worktree = join(root, 'wt');
    git(repo, 'worktree', 'add', '-q', '--detach', worktree);
    const registry = pidRegistryDir(join(repo, '.git'));
    mkdirSync(registry, { recursive: true });
    const seen = JSON.parse((await runCommand(selfReport(registry), { cwd: worktree })).output) as { pid: number; files: string[] };
    expect(seen.files).toEqual([expect.stringMatching(new RegExp(`^${seen.pid}-`))]);
  });

  it('records nothing outside a repository or when told not to', async () => {
    const outside = join(root, 'plain');
    mkdirSync(outside);
    expect((await runCommand([process.execPath, '-e', ''], { cwd: outside })).exitCode).toBe(0);
    const registry = pidRegistryDir(join(repo, '.git'));
    mkdirSync(registry, { recursive: true });
    const seen = JSON.parse((await runCommand(selfReport(registry), { cwd: repo, recordProcess: false })).output) as { files: string[] };
    expect(seen.files).toEqual([]);
  });

  it('keeps the entry of a process that is still running, and reads it back with its owner', async () => {
    const registry = pidRegistryDir(join(repo, '.git'));
    const running = runCommand([process.execPath, '-e', 'setTimeout(() => {}, 60000)'], { cwd: repo, timeoutMs: 60_000 });
    let entries = readPidRegistry(join(repo, '.git')).entries;
    for (let i = 0; i < 500 && entries.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      entries = readPidRegistry(join(repo, '.git')).entries;
    }
    try {
      expect(entries).toHaveLength(1);
      const recorded = entries[0]!.process;
      expect(recorded).toMatchObject({ version: 1, cwd: repo, owner: { pid: process.pid, startTicks: processStartTicks(process.pid) } });
      expect(recorded.startTicks).toBe(processStartTicks(recorded.pid));
      // The command line as the kernel shows it, so preflight can check the pid is still this command.
      expect(recorded.cmdline).toEqual([process.execPath, '-e', 'setTimeout(() => {}, 60000)']);
      expect(processCmdline(recorded.pid)).toEqual(recorded.cmdline);
      expect(isSameLiveProcess(recorded)).toBe(true);
      // The same pid with another start time is another process (a reused id).
      expect(isSameLiveProcess({ pid: recorded.pid, startTicks: recorded.startTicks + 1 })).toBe(false);
      process.kill(recorded.pid, 'SIGKILL');
    } finally {
      await running;
    }
    expect(existsSync(registry) ? readdirSync(registry) : []).toEqual([]);
  });

  it('says a process that ended is not live, and skips files that are not entries', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid!;
    const ticks = processStartTicks(pid) ?? 0;
    await new Promise((r) => child.on('close', r));
    expect(isSameLiveProcess({ pid, startTicks: ticks })).toBe(false);

    const registry = pidRegistryDir(join(repo, '.git'));
    mkdirSync(registry, { recursive: true });
    writeFileSync(join(registry, 'junk.json'), '{not json');
    writeFileSync(join(registry, '.123-4.abcd.tmp'), '{}');
    // An entry without a command is no entry: nothing could check the pid is still that command.
    const base = { version: 1, pid: 4242, startTicks: 1, bootId: 'b', pidNamespace: 'n', cwd: repo, startedAt: 't', owner: { pid: 2, startTicks: 1 } };
    writeFileSync(join(registry, 'no-argv.json'), JSON.stringify({ ...base, argv: [] }));
    writeFileSync(join(registry, 'bad-cmdline.json'), JSON.stringify({ ...base, argv: ['x'], cmdline: [1] }));
    expect(readPidRegistry(join(repo, '.git'))).toEqual({
      entries: [],
      unreadable: [join(registry, 'bad-cmdline.json'), join(registry, 'junk.json'), join(registry, 'no-argv.json')],
    });
  });
});
