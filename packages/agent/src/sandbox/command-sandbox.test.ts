/**
 * The start-up choice where bubblewrap works but the process limit cannot be had, with the probe
 * injected (no bwrap runs; the real probe only where bwrap is missing): refused unless the
 * operator opted in, warned when opted in. The real probe on this host is in
 * bubblewrap-sandbox.int.test.ts.
 */
import { ALLOW_UNLIMITED_PROCESSES_VARIABLE, BubblewrapSandbox } from './bubblewrap-sandbox.js';
import type { CgroupAvailability } from './cgroup-limits.js';
import { createCommandSandbox } from './command-sandbox.js';
import type { SandboxProbe } from './probe-sandbox.js';
import { SandboxErrorCodes } from './sandbox.js';

const NOT_USABLE: CgroupAvailability = { usable: false, reason: 'no cgroup v1 pids hierarchy at /sys/fs/cgroup/pids' };
const logs: Array<{ level: string; message: string; fields: unknown }> = [];
const logger = {
  info: (message: string, fields?: unknown) => void logs.push({ level: 'info', message, fields }),
  warn: (message: string, fields?: unknown) => void logs.push({ level: 'warn', message, fields }),
};

beforeEach(() => {
  logs.length = 0;
});

/** A probe that finds bubblewrap working, building the sandbox from the options it is given. */
function workingBubblewrap(uid: number): (options: ConstructorParameters<typeof BubblewrapSandbox>[0]) => Promise<SandboxProbe> {
  return (options = {}) => {
    const sandbox = new BubblewrapSandbox({ ...options, cgroups: { pids: NOT_USABLE, memory: NOT_USABLE }, uid });
    const refusal = sandbox.refusal();
    return Promise.resolve(refusal === undefined ? { available: true, sandbox, enforcement: sandbox.enforcement() } : { available: false, failed: 'processLimit', reason: refusal });
  };
}

describe('createCommandSandbox without a usable pids cgroup', () => {
  it('as uid 0, refuses every command even with unsandboxed commands allowed, naming the opt-in variable at start and in each refusal', async () => {
    for (const allowUnsandboxed of [false, true]) {
      logs.length = 0;
      const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed, logger, probe: workingBubblewrap(0) });
      expect(sandbox.kind).toBe('refusing');
      const error = await sandbox.prepare([], { cwd: '/w', worktree: '/w', env: {} }).catch((err: unknown) => err);
      expect(error).toMatchObject({ code: SandboxErrorCodes.unavailable, message: expect.stringContaining(`${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true`) });
      expect((error as Error).message).toContain('uid 0, which RLIMIT_NPROC does not bind');
      expect(logs).toEqual([{ level: 'warn', message: expect.stringMatching(new RegExp(`REFUSED.*${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true`)), fields: { reason: expect.stringContaining(NOT_USABLE.reason) } }]);
    }
  });

  it('as uid 0 with unlimited processes allowed, runs bubblewrap and warns at start that the limit is off', async () => {
    const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: false, bubblewrap: { allowUnlimitedProcesses: true }, logger, probe: workingBubblewrap(0) });
    expect(sandbox.kind).toBe('bubblewrap');
    expect(logs.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(logs[0]?.message).toMatch(new RegExp(`SANDBOX PROCESS LIMIT OFF.*NO limit.*${ALLOW_UNLIMITED_PROCESSES_VARIABLE}=true`));
    expect(logs[1]?.fields).toEqual(expect.objectContaining({ limits: expect.objectContaining({ processes: expect.stringMatching(/^NOT ENFORCED/) }) }));
  });

  it('as uid 0 where bwrap itself is missing, says bwrap is unavailable first, so allowed unsandboxed commands run', async () => {
    const bubblewrap = { bwrapPath: '/nonexistent/bwrap', uid: 0, cgroups: { pids: NOT_USABLE, memory: NOT_USABLE } };
    const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: true, bubblewrap, logger });
    expect(sandbox.kind).toBe('unsandboxed');
    expect(logs).toEqual([{ level: 'warn', message: expect.stringContaining('SANDBOX UNAVAILABLE'), fields: { reason: expect.stringContaining('/nonexistent/bwrap') } }]);
  });

  it('as a non-root uid, runs bubblewrap with RLIMIT_NPROC and logs it, with no warning', async () => {
    const sandbox = await createCommandSandbox({ mode: 'bwrap', allowUnsandboxed: false, logger, probe: workingBubblewrap(1000) });
    expect(sandbox.kind).toBe('bubblewrap');
    expect(logs).toEqual([{ level: 'info', message: 'command sandbox: bubblewrap', fields: expect.objectContaining({ limits: expect.objectContaining({ processes: expect.stringMatching(/^1024 \(RLIMIT_NPROC/) }) }) }]);
  });
});
