import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { readCliEnv } from './cli-env.js';
import { readClusterState, writeClusterState, type ClusterState } from './cluster-state.js';
import { runDown } from './commands/down.js';
import { runWatchdog } from './parent-watchdog.js';
import { groupExists, pidState } from './process-group.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Live (non-zombie) members of process group `pgid`. */
function membersOf(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Polls `condition` for up to 30 s (a bound for a loaded machine, not a timing assertion). */
async function until(condition: () => boolean, what: string, explain: () => string = () => ''): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(`gave up waiting: ${what}${explain() === '' ? '' : `; ${explain()}`}`);
}

const started: ChildProcess[] = [];

/**
 * A process group of our own, like a service and a command it started: `sh` leading its group
 * and a `sleep` in it. `script` is also the entry /proc shows for `sh`.
 */
async function startGroup(script: string): Promise<{ pid: number; entry: string; sleeper: number }> {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  started.push(child);
  const pid = child.pid!;
  await until(() => membersOf(pid).some((p) => p !== pid), 'the sleep in the group', () => `group ${pid} has ${JSON.stringify(membersOf(pid))}`);
  return { pid, entry: script, sleeper: membersOf(pid).find((p) => p !== pid)! };
}

const alive = (pid: number): boolean => pidState(pid) === 'live';

afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('maestro down signals each service’s process group', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'maestro-cli-down-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function stateWith(processes: Array<{ label: string; pid: number; entry: string }>): void {
    const state: ClusterState = {
      version: 1,
      mode: 'detached',
      startedAt: new Date().toISOString(),
      gatewayUrl: 'http://127.0.0.1:9',
      viewerUrl: 'http://127.0.0.1:9/',
      models: 'scripted',
      database: 'maestro',
      logDir: join(dir, 'logs'),
      processes: processes.map((p) => ({ ...p, grpcAddr: '', logFile: '' })),
    };
    writeClusterState(dir, state);
  }

  async function down(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out = new Capture();
    const err = new Capture();
    const env = readCliEnv({ MAESTRO_STATE_DIR: dir });
    const code = await runDown(args, { root: dir, env, stdout: out, stderr: err, cwd: dir, interrupt: new AbortController().signal });
    return { code, out: out.text, err: err.text };
  }

  it('stops the service and the command it started', async () => {
    const svc = await startGroup('sleep 60 & wait');
    stateWith([{ label: 'executor-1', ...svc }]);
    const result = await down(['--grace-seconds', '5']);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain('stopped 1 process of the cluster');
    expect([alive(svc.pid), alive(svc.sleeper), groupExists(svc.pid)]).toEqual([false, false, false]);
    expect(readClusterState(dir)).toBeUndefined();
  });

  it('SIGKILLs the whole group when SIGTERM is ignored, after the grace', async () => {
    // `trap '' TERM` is inherited by the sleep: only SIGKILL stops either.
    const svc = await startGroup("trap '' TERM; sleep 60 & wait");
    stateWith([{ label: 'executor-1', ...svc }]);
    const result = await down(['--grace-seconds', '1']);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`executor-1 (pid ${svc.pid}) still running after 1s: SIGKILL`);
    expect([alive(svc.pid), alive(svc.sleeper)]).toEqual([false, false]);
  });

  it('stops what a service left in its group after it exited', async () => {
    const svc = await startGroup('sleep 60 & sleep 60');
    process.kill(svc.pid, 'SIGKILL');
    await until(() => !alive(svc.pid), 'the leader gone');
    expect(alive(svc.sleeper)).toBe(true);
    stateWith([{ label: 'executor-1', ...svc }]);
    expect((await down(['--grace-seconds', '5'])).code).toBe(0);
    expect(alive(svc.sleeper)).toBe(false);
  });

  it('leaves a PID alone that no longer runs the recorded script', async () => {
    const other = await startGroup('sleep 61 & wait');
    stateWith([{ label: 'executor-1', pid: other.pid, entry: '/somewhere/services/executor/dist/main.js' }]);
    const result = await down(['--grace-seconds', '1']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('stopped 0 processes');
    expect([alive(other.pid), alive(other.sleeper)]).toEqual([true, true]);
  });
});

describe('the watchdog of a foreground maestro up', () => {
  it('stops every watched group when its input ends (the supervisor died), and nothing before', async () => {
    const a = await startGroup('sleep 60 & wait');
    const b = await startGroup("trap '' TERM; sleep 60 & wait");
    const input = new PassThrough();
    const stopped = runWatchdog(input, { graceMs: 1000 });
    input.write(`${JSON.stringify({ label: 'a', pid: a.pid, entry: a.entry })}\n`);
    input.write(`${JSON.stringify({ label: 'b', pid: b.pid, entry: b.entry })}\nnot json\n`);
    await new Promise((r) => setTimeout(r, 200));
    expect([a.pid, a.sleeper, b.pid, b.sleeper].map(alive)).toEqual([true, true, true, true]);
    input.end();
    expect(await stopped).toEqual([]);
    // Each process's state is in the failure message, so it tells what was left (a zombie is not alive).
    const states = Object.fromEntries([a.pid, a.sleeper, b.pid, b.sleeper].map((pid) => [pid, pidState(pid)]));
    expect(Object.values(states).includes('live') ? states : 'none live').toBe('none live');
  });
});
