/**
 * Whether bubblewrap works on this host, found by running a real command in it: `bwrap` may be
 * missing, user namespaces forbidden, or `/proc` not mountable in a container. The probe runs a
 * shell inside a fresh sandbox over a temporary worktree and checks it holds no capabilities.
 * A sandbox that works but can enforce no process limit (root without a pids cgroup, not
 * allowed unlimited processes) is unavailable too, for that reason.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BubblewrapSandbox, type BubblewrapSandboxOptions } from './bubblewrap-sandbox.js';
import type { LimitEnforcement } from './sandbox.js';

/** Longest the probe's command may take. */
const PROBE_TIMEOUT_MS = 15_000;

/**
 * The probe's answer: a working sandbox and how it enforces each limit, or why there is none —
 * `failed` says whether bubblewrap itself failed or it works but no process limit can be enforced
 * (then running commands without any sandbox instead would be no answer).
 */
export type SandboxProbe =
  | { available: true; sandbox: BubblewrapSandbox; enforcement: LimitEnforcement[] }
  | { available: false; failed: 'bubblewrap' | 'processLimit'; reason: string };

/** Builds a {@link BubblewrapSandbox} from `options` and runs one command in it. Never throws. */
export async function probeSandbox(options: BubblewrapSandboxOptions = {}): Promise<SandboxProbe> {
  let sandbox: BubblewrapSandbox;
  try {
    sandbox = new BubblewrapSandbox(options);
  } catch (err) {
    return { available: false, failed: 'bubblewrap', reason: err instanceof Error ? err.message : String(err) };
  }
  const refusal = sandbox.refusal();
  if (refusal === undefined) return runProbe(sandbox);
  // Whether bubblewrap works decides what the operator must fix first: probed without cgroups
  // and without the process limit (the probe's one shell needs none).
  const bare = await runProbe(new BubblewrapSandbox({ ...options, cgroups: { pids: NO_CGROUP, memory: NO_CGROUP }, allowUnlimitedProcesses: true }));
  return bare.available ? { available: false, failed: 'processLimit', reason: refusal } : bare;
}

const NO_CGROUP = { usable: false, reason: 'not used by the probe' } as const;

async function runProbe(sandbox: BubblewrapSandbox): Promise<SandboxProbe> {
  const worktree = await mkdtemp(join(tmpdir(), 'maestro-sandbox-probe-'));
  try {
    // The disk floor is each command's business: a disk low at start must not disable the sandbox for good.
    const request = { cwd: worktree, worktree, env: { PATH: '/usr/bin:/bin' }, limits: { minFreeDiskBytes: 1 } };
    const prepared = await sandbox.prepare(['/bin/sh', '-c', 'grep "^CapEff:" /proc/self/status'], request);
    try {
      const { stdout } = await runFile(prepared.argv, prepared.env, worktree);
      if (!/^CapEff:\s*0+\s*$/m.test(stdout)) return { available: false, failed: 'bubblewrap', reason: `the sandboxed command still holds capabilities (${stdout.trim()})` };
    } finally {
      await prepared.cleanup();
    }
    return { available: true, sandbox, enforcement: sandbox.enforcement() };
  } catch (err) {
    return { available: false, failed: 'bubblewrap', reason: err instanceof Error ? err.message.trim() : String(err) };
  } finally {
    await rm(worktree, { recursive: true, force: true });
  }
}

function runFile(argv: readonly string[], env: Record<string, string>, cwd: string): Promise<{ stdout: string }> {
  const [file, ...args] = argv;
  return new Promise((resolvePromise, reject) => {
    execFile(file ?? '', args, { env, cwd, timeout: PROBE_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv[0]} failed: ${stderr.trim() || err.message}`));
      else resolvePromise({ stdout });
    });
  });
}
