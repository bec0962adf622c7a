import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesWithArgument, testServers } from '@maestro/testing';
import { runCommand, type CommandResult } from '../run-command.js';
import { BubblewrapSandbox, type BubblewrapSandboxOptions } from './bubblewrap-sandbox.js';
import { detectCgroupV1, type CgroupAvailability } from './cgroup-limits.js';
import { statfsFreeBytes } from './disk-floor.js';
import { createCommandSandbox } from './command-sandbox.js';
import { SandboxErrorCodes, type PreparedCommand, type Sandbox, type SandboxRequest } from './sandbox.js';
import { UnsandboxedRunner } from './unsandboxed-runner.js';

const MIB = 1024 * 1024;
const NO_CGROUP: CgroupAvailability = { usable: false, reason: 'no cgroup in this test' };
/** The unprivileged uid (nobody) a root test run drops to, where RLIMIT_NPROC binds. */
const NOBODY = 65534;
let base: string;
let worktree: string;
let otherWorktree: string;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-sandbox-int-')));
  worktree = join(base, 'worktree');
  otherWorktree = join(base, 'other-worktree');
  mkdirSync(worktree);
  mkdirSync(otherWorktree);
  writeFileSync(join(otherWorktree, 'secret.txt'), 'other task');
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function sandboxed(options: BubblewrapSandboxOptions = {}): BubblewrapSandbox {
  return new BubblewrapSandbox(options);
}

function run(sandbox: Sandbox, argv: string[], extra: { cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand(argv, { cwd: extra.cwd ?? worktree, worktree, sandbox, timeoutMs: extra.timeoutMs ?? 30_000, recordProcess: false });
}

function sh(script: string): string[] {
  return ['/bin/sh', '-c', script];
}

/**
 * Runs `sandbox`'s commands as `uid` (`setpriv`, util-linux like `prlimit`), as an executor
 * running as that uid would: bwrap and everything in it then belong to it.
 */
function asUid(sandbox: Sandbox, uid: number): Sandbox {
  return {
    kind: sandbox.kind,
    enforcement: () => sandbox.enforcement(),
    prepare: async (argv: readonly string[], request: SandboxRequest): Promise<PreparedCommand> => {
      const prepared = await sandbox.prepare(argv, request);
      return { ...prepared, argv: ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', ...prepared.argv] };
    },
  };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });
}

describe('BubblewrapSandbox (real bwrap)', () => {
  it('lets the command write its worktree and nothing else', async () => {
    const result = await run(sandboxed(), sh(`echo inside > made.txt && cat made.txt; echo x > ${otherWorktree}/x; echo x > /usr/x; echo x > /etc/x; echo x > ${base}/x; echo done`));
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(worktree, 'made.txt'), 'utf8')).toBe('inside\n');
    expect(readdirSync(base).sort()).toEqual(['other-worktree', 'worktree']);
    expect(readdirSync(otherWorktree)).toEqual(['secret.txt']);
    expect(result.output).toMatch(/cannot create \/usr\/x/);
  });

  it('hides host secrets, other worktrees, sockets and the host /tmp', async () => {
    const result = await run(sandboxed(), sh(`for p in /etc/shadow /etc/gshadow /etc/ssh /root /home /run /var/run/postgresql ${otherWorktree}/secret.txt ${base}/other-worktree; do [ -e "$p" ] && echo "VISIBLE $p"; done; ls /tmp; echo checked`));
    expect(result.exitCode).toBe(0);
    expect(result.output).not.toMatch(/VISIBLE/);
    expect(result.output).toContain('checked');
    // Control: the host does have them, so a leak would show.
    expect(statSync('/var/run/postgresql').isDirectory()).toBe(true);
    expect(statSync(join(otherWorktree, 'secret.txt')).isFile()).toBe(true);
  });

  it('drops every capability', async () => {
    const result = await run(sandboxed(), ['grep', '^CapEff:', '/proc/self/status']);
    expect(result.output.trim()).toMatch(/^CapEff:\s+0+$/);
  });

  it('keeps the command off the network unless network is allowed', async () => {
    const ports = [new URL(testServers.natsUrl).port, new URL(testServers.redisUrl).port];
    const probe = `const net = require('node:net'); let left = ${ports.length};
      for (const port of [${ports.join(',')}]) {
        const s = net.connect({ host: '127.0.0.1', port }, () => { console.log('CONNECTED ' + port); s.destroy(); if (--left === 0) process.exit(0); });
        s.on('error', (e) => { console.log('FAILED ' + port + ' ' + e.code); if (--left === 0) process.exit(0); });
      }`;
    const denied = await run(sandboxed(), ['node', '-e', probe]);
    expect(denied.output).not.toContain('CONNECTED');
    expect(denied.output.match(/FAILED/g)).toHaveLength(2);
    const allowed = await run(sandboxed({ network: true }), ['node', '-e', probe]);
    expect(allowed.output.match(/CONNECTED/g)).toHaveLength(2);
  });

  it('passes no credentials: a variable of the executor is neither in env nor in /proc/1/environ', async () => {
    process.env['MAESTRO_DATABASE_URL'] = 'postgres://canary:canary-secret@db/x';
    try {
      const result = await run(sandboxed(), sh('env; tr "\\0" "\\n" < /proc/1/environ; echo HOME=$HOME TMPDIR=$TMPDIR'));
      expect(result.exitCode).toBe(0);
      expect(result.output).not.toContain('canary');
      expect(result.output).toContain('HOME=/tmp/home TMPDIR=/tmp');
    } finally {
      delete process.env['MAESTRO_DATABASE_URL'];
    }
  });

  it('ends a setsid daemon together with the command', async () => {
    const marker = `31.${process.pid}${Date.now() % 100000}`;
    const daemon = sh(`setsid sh -c 'sleep ${marker}' > /dev/null 2>&1 & sleep 0.2; echo started`);
    const result = await run(sandboxed(), daemon);
    expect(result.output).toContain('started');
    expect(processesWithArgument(marker)).toEqual([]);
    // Control: without the sandbox the daemon escapes the process group and lives on.
    await run(new UnsandboxedRunner('test control'), daemon);
    const escaped = processesWithArgument(marker);
    for (const pid of escaped) process.kill(pid, 'SIGKILL');
    expect(escaped).toHaveLength(1);
  });

  it('stops a fork bomb at the pids limit', async () => {
    const result = await run(sandboxed({ limits: { processes: 32 } }), sh('while :; do sleep 5 & done'), { timeoutMs: 20_000 });
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toMatch(/fork/i);
  });

  it('stops forking at RLIMIT_NPROC where no pids cgroup is usable and the executor is not root', async () => {
    // As root the test drops to nobody, as an executor running as non-root would be; the
    // worktree must then be that uid's to enter.
    const root = process.getuid?.() === 0;
    const uid = root ? NOBODY : (process.getuid?.() ?? NOBODY);
    chmodSync(base, 0o755);
    chmodSync(worktree, 0o777);
    const limited = (processes: number): Sandbox => {
      const sandbox = sandboxed({ cgroups: { pids: NO_CGROUP, memory: NO_CGROUP }, uid, limits: { processes } });
      return root ? asUid(sandbox, uid) : sandbox;
    };
    expect(sandboxed({ cgroups: { pids: NO_CGROUP, memory: NO_CGROUP }, uid }).processLimit.how).toBe('nproc');
    // Bounded: at most 100 children, each ended with the PID namespace when the command ends.
    const forks = sh('i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done; echo STARTED $i');
    const stopped = await run(limited(32), forks, { timeoutMs: 20_000 });
    expect(stopped.timedOut).toBe(false);
    expect(stopped.exitCode).not.toBe(0);
    expect(stopped.output).toMatch(/fork/i);
    expect(stopped.output).not.toContain('STARTED');
    // Control: the same 100 children fit under the default limit.
    const fits = await run(limited(1024), forks, { timeoutMs: 20_000 });
    expect(fits.output).toContain('STARTED 100');
  });

  it('kills a busy loop at the CPU-time limit, not at the wall-clock timeout', async () => {
    const busy = sh('while :; do :; done');
    const result = await run(sandboxed({ limits: { cpuSeconds: 1 } }), busy, { timeoutMs: 60_000 });
    expect(result.timedOut).toBe(false);
    // The loop died of SIGKILL (RLIMIT_CPU's hard limit; SIGXCPU at a soft one below it), which
    // bwrap passes on as its exit code 128 + signal: bwrap itself was not killed.
    expect(result.signal).toBeNull();
    expect([128 + constants.signals.SIGKILL, 128 + constants.signals.SIGXCPU]).toContain(result.exitCode);
    // Control: under the default CPU limit the same loop runs until the timeout ends it.
    const control = await run(sandboxed(), busy, { timeoutMs: 1_000 });
    expect(control.timedOut).toBe(true);
  });

  it('stops a file at the file-size limit', async () => {
    const result = await run(sandboxed({ limits: { fileSizeBytes: 4 * MIB } }), sh('head -c 200M /dev/zero > big'));
    expect(result.exitCode).not.toBe(0);
    expect(statSync(join(worktree, 'big')).size).toBeLessThanOrEqual(4 * MIB);
  });

  it('kills a process past the memory limit', async () => {
    const allocate = ['node', '-e', 'const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(8 * 1024 * 1024, 1)); console.log("ALLOCATED")'];
    const result = await run(sandboxed({ limits: { memoryBytes: 64 * MIB } }), allocate);
    expect(result.exitCode).not.toBe(0);
    expect(result.output).not.toContain('ALLOCATED');
    expect((await run(sandboxed(), allocate)).output).toContain('ALLOCATED');
  });

  it('removes the empty cgroups a killed executor left behind, and only those', async () => {
    const pids = detectCgroupV1('pids');
    if (!pids.usable) throw new Error(`this test needs a writable pids cgroup: ${pids.reason}`);
    const stale = join(pids.parentDir, '4194301-deadbeef');
    const live = join(pids.parentDir, `${process.pid}-cafe`);
    mkdirSync(stale);
    mkdirSync(live);
    try {
      sandboxed();
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
    } finally {
      for (const dir of [stale, live]) if (existsSync(dir)) rmdirSync(dir);
    }
  });

  it('does not start a command when the disk is already below the floor', async () => {
    const result = await run(sandboxed({ limits: { minFreeDiskBytes: Number.MAX_SAFE_INTEGER } }), sh('touch started'));
    expect(result.refusal?.code).toBe(SandboxErrorCodes.diskLow);
    expect(result.refusal?.message).toMatch(/not started: only .* MiB is free on the filesystem of .*, below the sandbox's floor/);
    expect(existsSync(join(worktree, 'started'))).toBe(false);
  });

  it('ends a command whose writes take the disk below the floor, however small each file is', async () => {
    // The floor sits 24 MiB below what is free now: the case needs no full disk and fills none.
    const floor = Math.max(MIB, statfsFreeBytes(worktree) - 24 * MIB);
    const result = await run(
      sandboxed({ limits: { minFreeDiskBytes: floor } }),
      sh('i=0; while [ $i -lt 200 ]; do head -c 1M /dev/zero > f$i; sync f$i; i=$((i+1)); sleep 0.01; done; echo WROTE-ALL'),
    );
    expect(result.stopped?.code).toBe(SandboxErrorCodes.diskLow);
    expect(result.stopped?.message).toContain("below the sandbox's floor");
    expect(result.output).not.toContain('WROTE-ALL');
    expect(readdirSync(worktree).length).toBeLessThan(200);
  });

  it('kills a command at the wall-clock timeout', async () => {
    const result = await run(sandboxed(), ['sleep', '30'], { timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
  });

  it('shows the repository read-only and the linked dependencies, but not the checkout', async () => {
    const repo = join(base, 'repo');
    mkdirSync(join(repo, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(repo, 'node_modules', 'dep', 'index.js'), 'module.exports = "dep loaded";');
    writeFileSync(join(repo, '.gitignore'), 'node_modules\n');
    writeFileSync(join(repo, 'tracked.txt'), 'v1\n');
    git(base, 'init', '-q', 'repo');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
    writeFileSync(join(repo, 'wip.txt'), 'uncommitted work of the user');
    const linked = join(base, 'linked');
    git(repo, 'worktree', 'add', '-q', '--detach', linked);
    symlinkSync(join(repo, 'node_modules'), join(linked, 'node_modules'));
    symlinkSync(otherWorktree, join(linked, 'escape'));
    writeFileSync(join(linked, 'tracked.txt'), 'v2\n');
    const result = await runCommand(
      sh(`node -e 'console.log(require("dep"))'; git status --porcelain; [ -e ${repo}/wip.txt ] && echo VISIBLE-WIP; [ -e escape/secret.txt ] && echo VISIBLE-ESCAPE; touch ${repo}/.git/hooks/planted || echo HOOKS-READ-ONLY; echo x >> .git || echo DOTGIT-READ-ONLY`),
      { cwd: linked, worktree: linked, sandbox: sandboxed(), timeoutMs: 30_000, recordProcess: false },
    );
    expect(result.output).toContain('dep loaded');
    expect(result.output).toMatch(/M tracked\.txt/);
    expect(result.output).not.toMatch(/VISIBLE/);
    expect(result.output).toContain('HOOKS-READ-ONLY');
    expect(result.output).toContain('DOTGIT-READ-ONLY');
  });

  it('refuses a command when bwrap is missing', async () => {
    const result = await run(sandboxed({ bwrapPath: join(base, 'no-bwrap') }), ['true']);
    expect(result.refusal?.code).toBe(SandboxErrorCodes.unavailable);
    expect(result.exitCode).toBeNull();
  });
});

describe('createCommandSandbox', () => {
  const logs: Array<{ level: string; message: string }> = [];
  const logger = {
    info: (message: string) => void logs.push({ level: 'info', message }),
    warn: (message: string) => void logs.push({ level: 'warn', message }),
  };
  beforeEach(() => {
    logs.length = 0;
  });

  it('picks bubblewrap when the probe passes', async () => {
    const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: false, logger });
    expect(sandbox.kind).toBe('bubblewrap');
    expect(sandbox.enforcement().map((e) => e.limit)).toEqual(expect.arrayContaining(['processes', 'memoryBytes', 'cpuSeconds', 'fileSizeBytes', 'openFiles', 'wallClock']));
  });

  it('refuses every command with SANDBOX_UNAVAILABLE when bwrap cannot run and unsandboxed is not allowed, and says so at start', async () => {
    const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: false, bubblewrap: { bwrapPath: join(base, 'no-bwrap') }, logger });
    const result = await run(sandbox, ['sh', '-c', `touch ${worktree}/ran`]);
    expect(result.refusal?.code).toBe(SandboxErrorCodes.unavailable);
    expect(result.spawnError).toContain('MAESTRO_ALLOW_UNSANDBOXED');
    expect(readdirSync(worktree)).toEqual([]);
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringContaining('REFUSED') })]);
  });

  it('refuses every command as root without a pids cgroup, even with unsandboxed commands allowed, unless unlimited processes are allowed', async () => {
    const rootWithoutPids = { cgroups: { pids: NO_CGROUP, memory: NO_CGROUP }, uid: 0 };
    const refusing = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: true, bubblewrap: rootWithoutPids, logger });
    expect(refusing.kind).toBe('refusing');
    const refused = await run(refusing, sh(`touch ${worktree}/ran`));
    expect(refused.refusal?.code).toBe(SandboxErrorCodes.unavailable);
    expect(refused.spawnError).toContain('MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES=true');
    expect(readdirSync(worktree)).toEqual([]);
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringContaining('REFUSED') })]);

    logs.length = 0;
    const allowed = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: false, bubblewrap: { ...rootWithoutPids, allowUnlimitedProcesses: true }, logger });
    expect(allowed.kind).toBe('bubblewrap');
    expect((await run(allowed, sh(`touch ${worktree}/ran`))).exitCode).toBe(0);
    expect(readdirSync(worktree)).toEqual(['ran']);
    expect(logs.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(logs[0]?.message).toContain('SANDBOX PROCESS LIMIT OFF');
  });

  it('runs commands unsandboxed, with a warning on each, when the operator allowed it', async () => {
    const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: true, bubblewrap: { bwrapPath: join(base, 'no-bwrap') }, logger });
    expect(sandbox).toBeInstanceOf(UnsandboxedRunner);
    const result = await run(sandbox, ['sh', '-c', 'echo ran']);
    expect(result.exitCode).toBe(0);
    expect(result.sandboxNotice).toMatch(/WITHOUT a sandbox/);
    expect(logs[0]?.level).toBe('warn');
  });
});
