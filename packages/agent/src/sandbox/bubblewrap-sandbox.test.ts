/**
 * How the process limit is chosen and passed, with the cgroups' availability and the uid
 * injected: no cgroup is made on the host and no bwrap runs (node stands in for the executables
 * `prepare` checks). The real enforcement is in bubblewrap-sandbox.int.test.ts.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALLOW_UNLIMITED_PROCESSES_VARIABLE, BubblewrapSandbox, planProcessLimit, type BubblewrapSandboxOptions } from './bubblewrap-sandbox.js';
import type { CgroupAvailability } from './cgroup-limits.js';
import { SandboxError, SandboxErrorCodes, type LimitEnforcement } from './sandbox.js';
import { SandboxDefaults } from './sandbox-defaults.js';

const NOT_USABLE: CgroupAvailability = { usable: false, reason: 'cannot make a group under /sys/fs/cgroup/pids: EROFS: read-only file system' };
let base: string;
let worktree: string;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-sandbox-unit-')));
  worktree = join(base, 'worktree');
  mkdirSync(worktree);
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function sandbox(pids: CgroupAvailability, uid: number, extra: BubblewrapSandboxOptions = {}): BubblewrapSandbox {
  return new BubblewrapSandbox({ bwrapPath: process.execPath, prlimitPath: process.execPath, cgroups: { pids, memory: { usable: false, reason: 'not in this test' } }, uid, ...extra });
}

/** The prlimit options of the prepared command (between prlimit and the `--` before the argv). */
async function prlimitOptions(box: BubblewrapSandbox, limits: BubblewrapSandboxOptions['limits'] = {}): Promise<string[]> {
  const prepared = await box.prepare(['true'], { cwd: worktree, worktree, env: {}, limits });
  const at = prepared.argv.lastIndexOf(process.execPath);
  return prepared.argv.slice(at + 1, prepared.argv.indexOf('--', at));
}

function processes(box: BubblewrapSandbox): LimitEnforcement | undefined {
  return box.enforcement().find((e) => e.limit === 'processes');
}

describe('the process limit', () => {
  it('is a pids cgroup per command where one is usable, whatever the uid', async () => {
    const parentDir = join(base, 'pids-parent');
    mkdirSync(parentDir);
    for (const uid of [0, 1000]) {
      const box = sandbox({ usable: true, parentDir }, uid);
      expect(box.processLimit).toEqual({ how: 'cgroup', parentDir });
      expect(processes(box)).toEqual({ limit: 'processes', value: SandboxDefaults.processes, how: `cgroup v1 pids.max per command under ${parentDir}` });
      const prepared = await box.prepare(['true'], { cwd: worktree, worktree, env: {} });
      expect(prepared.argv.join(' ')).toContain(`${parentDir}/`);
      expect(prepared.argv.some((arg) => arg.startsWith('--nproc'))).toBe(false);
    }
  });

  it('is RLIMIT_NPROC for a non-root uid without a usable pids cgroup, and says what it counts', async () => {
    const box = sandbox(NOT_USABLE, 1000);
    expect(box.processLimit.how).toBe('nproc');
    expect(await prlimitOptions(box)).toContain(`--nproc=${SandboxDefaults.processes}`);
    expect(await prlimitOptions(box, { processes: 64 })).toContain('--nproc=64');
    const enforcement = processes(box);
    expect(enforcement?.value).toBe(SandboxDefaults.processes);
    expect(enforcement?.how).toContain('RLIMIT_NPROC');
    expect(enforcement?.how).toContain('uid 1000');
    expect(enforcement?.how).toContain(NOT_USABLE.reason);
    expect(enforcement?.how).toMatch(/every process of uid 1000 in the container counts/);
  });

  it('refuses every command as uid 0 without a usable pids cgroup, naming why and the opt-in variable', async () => {
    const box = sandbox(NOT_USABLE, 0);
    expect(box.processLimit.how).toBe('refused');
    const error = await box.prepare(['true'], { cwd: worktree, worktree, env: {} }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SandboxError);
    expect((error as SandboxError).code).toBe(SandboxErrorCodes.unavailable);
    expect((error as SandboxError).message).toContain(NOT_USABLE.reason);
    expect((error as SandboxError).message).toContain('uid 0, which RLIMIT_NPROC does not bind');
    expect((error as SandboxError).message).toContain(`${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true`);
    expect(processes(box)).toEqual(expect.objectContaining({ value: undefined, how: expect.stringContaining('every command is refused') }));
  });

  it('runs commands with the limit unenforced as uid 0 when the operator allowed it, and says so', async () => {
    const box = sandbox(NOT_USABLE, 0, { allowUnlimitedProcesses: true });
    expect(box.processLimit.how).toBe('unenforced');
    expect(box.refusal()).toBeUndefined();
    expect((await prlimitOptions(box)).some((arg) => arg.startsWith('--nproc'))).toBe(false);
    expect(processes(box)).toEqual({
      limit: 'processes',
      value: undefined,
      how: expect.stringMatching(new RegExp(`^NOT ENFORCED \\(.*${NOT_USABLE.reason}.*uid 0.*; ${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true\\)$`)),
    });
  });

  it('is chosen the same way by planProcessLimit', () => {
    expect(planProcessLimit({ usable: true, parentDir: '/p' }, 0, false)).toEqual({ how: 'cgroup', parentDir: '/p' });
    expect(planProcessLimit(NOT_USABLE, 1000, false)).toEqual(expect.objectContaining({ how: 'nproc', uid: 1000 }));
    expect(planProcessLimit(NOT_USABLE, 1000, true).how).toBe('nproc');
    expect(planProcessLimit(NOT_USABLE, 0, false).how).toBe('refused');
    expect(planProcessLimit(NOT_USABLE, 0, true).how).toBe('unenforced');
  });
});
