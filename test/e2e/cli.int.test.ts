/**
 * The `maestro` command as a user runs it, from the built dist: `maestro up --detach` (a state
 * directory, port, database, NATS namespace and Redis prefix of its own), `maestro run` of the
 * demo goal on a copy of examples/sample-repo (exit 0), `ls`, `show`, `logs`, `defs ls`, bad
 * arguments (exit 2 naming them), a second `up` refused, then `maestro down`: every process the
 * state file listed is gone. Then a foreground `maestro up` killed with SIGKILL (no handler
 * runs): its watchdog stops every service. The models are the scripted provider (no key is set), and the
 * output says so.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Streams } from '@maestro/contracts';
import { connectBus } from '@maestro/bus';
import { createSilentLogger } from '@maestro/runtime';
import { dropDatabase, freePort, prepareSampleRepo } from '@maestro/cli';
import { runToEnd, testServerUrl, testServers, type RunResult } from '@maestro/testing';

jest.setTimeout(900_000);

const root = resolve(__dirname, '../..');
const main = join(root, 'packages', 'cli', 'dist', 'main.js');
const demoGoal = 'Add subtraction and multiplication helpers to the calculator, with tests.';

const id = randomUUID().replace(/-/g, '').slice(0, 8);
const namespace = `cli${id}`;
const dbName = `maestro_cli_${id}`;
const stateDir = mkdtempSync(join(tmpdir(), 'maestro-cli-state-'));
const worktreeRoot = mkdtempSync(join(tmpdir(), 'maestro-cli-worktrees-'));
let port = 0;
let repo = '';

type Result = RunResult;

/** The test's private environment for `maestro`. */
function maestroEnv(): Record<string, string> {
  const dbUrl = new URL(testServerUrl());
  dbUrl.pathname = `/${dbName}`;
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    MAESTRO_STATE_DIR: stateDir,
    MAESTRO_GATEWAY_PORT: String(port),
    MAESTRO_DATABASE_URL: dbUrl.toString(),
    MAESTRO_NATS_URL: testServers.natsUrl,
    MAESTRO_NATS_NAMESPACE: namespace,
    MAESTRO_REDIS_URL: testServers.redisUrl,
    MAESTRO_LOCK_KEY_PREFIX: `maestro:${namespace}:lock:`,
    MAESTRO_EXECUTOR_WORKTREE_ROOT: worktreeRoot,
  };
}

/** Runs `maestro <args>` from the built dist with the test's private environment. */
function maestro(args: string[], timeoutMs = 400_000): Promise<Result> {
  return runToEnd(process.execPath, [main, ...args], { env: maestroEnv(), cwd: root, timeoutMs });
}

interface StateFile {
  gatewayUrl: string;
  processes: Array<{ label: string; pid: number; entry: string }>;
}

const readState = (): StateFile => JSON.parse(readFileSync(join(stateDir, 'cluster.json'), 'utf8')) as StateFile;

/** True while `pid` still runs `entry` (a reused PID running something else does not count). */
function runs(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(entry);
  } catch {
    return false;
  }
}

let pids: Array<{ pid: number; entry: string }> = [];

beforeAll(async () => {
  port = await freePort();
  repo = prepareSampleRepo(root).repo;
});

afterAll(async () => {
  // Only when a test failed before `down`: stop exactly the processes this test started.
  if (existsSync(join(stateDir, 'cluster.json'))) await maestro(['down', '--grace-seconds', '5']);
  for (const p of pids) if (runs(p.pid, p.entry)) process.kill(p.pid, 'SIGKILL');
  const bus = await connectBus({ url: testServers.natsUrl, name: 'cli-e2e-cleanup', logger: createSilentLogger(), namespace });
  for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
  await bus.close();
  await dropDatabase(testServerUrl(), dbName);
  for (const dir of [repo, stateDir, worktreeRoot]) rmSync(dir, { recursive: true, force: true });
});

it('maestro up --detach, run, ls, show, logs, defs ls, bad arguments, down', async () => {
  // Arguments are checked before anything starts: nothing runs yet, and the exit code is 2.
  const badRun = await maestro(['run', '', '--repo', repo]);
  expect(badRun.code).toBe(2);
  expect(badRun.stderr).toContain('<goal>: must not be empty');
  const badRepo = await maestro(['run', demoGoal, '--repo', join(stateDir, 'no-such-repo')]);
  expect(badRepo.code).toBe(2);
  expect(badRepo.stderr).toMatch(/--repo: .*no-such-repo does not exist/);

  const up = await maestro(['up', '--detach']);
  expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: '' });
  const upLines = up.stdout.trimEnd().split('\n');
  expect(upLines[upLines.length - 1]).toBe(`gateway: http://127.0.0.1:${port}`);
  expect(up.stdout).toContain('MODELS ARE SCRIPTED');
  expect(up.stdout).toContain(`viewer: http://127.0.0.1:${port}/`);
  const state = readState();
  pids = state.processes.map((p) => ({ pid: p.pid, entry: p.entry }));
  expect(state.processes.map((p) => p.label)).toEqual(
    expect.arrayContaining(['lock-manager', 'memory', 'router', 'workflow-engine', 'orchestrator', 'executor-1', 'executor-2', 'gateway']),
  );
  expect(pids.every((p) => runs(p.pid, p.entry))).toBe(true);

  // A second cluster from the same state directory is refused while this one runs.
  const again = await maestro(['up', '--detach']);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('still running');

  const run = await maestro(['run', demoGoal, '--repo', repo]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const taskId = /^task (\S+) submitted/m.exec(run.stdout)?.[1];
  expect(taskId).toBeDefined();
  expect(run.stdout).toMatch(/state +\S+ → \S+/);
  expect(run.stdout).toMatch(/subtask +\S+ planned: /);
  expect(run.stdout).toMatch(/step +\S+ #\d+ model scripted: /);
  expect(run.stdout).toMatch(/progress elapsed \d+\w* · [\d,]+ tokens · \$\d+\.\d{4} \(\d+ scripted calls, free\)/);
  expect(run.stdout).toMatch(new RegExp(`task +${taskId} succeeded`));

  const ls = await maestro(['ls']);
  expect(ls.code).toBe(0);
  expect(ls.stdout).toMatch(new RegExp(`^${taskId} +succeeded `, 'm'));

  const show = await maestro(['show', taskId!]);
  expect(show.code).toBe(0);
  expect(show.stdout).toContain(`goal     ${demoGoal}`);
  expect(show.stdout).toMatch(/^ +s1 +succeeded /m);
  expect(show.stdout).toMatch(/usage +\d+ calls, .* \(\d+ scripted, free\)/);

  const logs = await maestro(['logs', taskId!]);
  expect(logs.code).toBe(0);
  expect(logs.stdout).toMatch(/step +s1 #1 /);
  expect(logs.stdout).toMatch(/tool \w+/);

  // Authentication: `up` stored the operator key for its own gateway (owner-only); a wrong key,
  // a key without the scope and a revoked key are refused, SSE (`logs --follow`) included.
  expect(statSync(join(stateDir, 'api-key')).mode & 0o777).toBe(0o600);
  const bogusKey = `mk_aaaaaaaaaaaa_${'A'.repeat(43)}`;
  const wrongKey = await maestro(['ls', '--api-key', bogusKey]);
  expect(wrongKey.code).toBe(1);
  expect(wrongKey.stderr).toContain('the gateway refused the credentials');
  expect(wrongKey.stderr).not.toContain(bogusKey);
  const wrongKeyStream = await maestro(['logs', taskId!, '--follow', '--api-key', bogusKey]);
  expect(wrongKeyStream.code).toBe(1);
  expect(wrongKeyStream.stderr).toContain('the gateway refused the credentials');
  const created = await maestro(['keys', 'create', '--name', 'reader', '--scopes', 'read', '--json']);
  expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
  const reader = JSON.parse(created.stdout) as { id: string; key: string; scopes: string[] };
  expect(reader.scopes).toEqual(['read']);
  expect((await maestro(['ls', '--api-key', reader.key])).code).toBe(0);
  const readerRun = await maestro(['run', demoGoal, '--repo', repo, '--api-key', reader.key]);
  expect(readerRun.code).toBe(1);
  expect(readerRun.stderr).toContain('submit');
  const revoked = await maestro(['keys', 'revoke', reader.id]);
  expect({ code: revoked.code, stderr: revoked.stderr }).toEqual({ code: 0, stderr: '' });
  const afterRevoke = await maestro(['ls', '--api-key', reader.key]);
  expect(afterRevoke.code).toBe(1);
  expect(afterRevoke.stderr).toContain('the gateway refused the credentials');
  // Another tenant's key (only the operator may make one) sees none of this tenant's tasks:
  // its ids answer "not found" exactly like unknown ones, the live stream included.
  const foreign = await maestro(['keys', 'create', '--name', 'globex-reader', '--scopes', 'read', '--tenant', 'globex', '--json']);
  expect({ code: foreign.code, stderr: foreign.stderr }).toEqual({ code: 0, stderr: '' });
  const globexKey = (JSON.parse(foreign.stdout) as { key: string; tenant: string }).key;
  const foreignLs = await maestro(['ls', '--api-key', globexKey]);
  expect({ code: foreignLs.code, stdout: foreignLs.stdout.trim() }).toEqual({ code: 0, stdout: 'no tasks' });
  const foreignShow = await maestro(['show', taskId!, '--api-key', globexKey]);
  expect(foreignShow.code).toBe(1);
  expect(foreignShow.stderr).toMatch(/not found|does not exist/);
  const foreignFollow = await maestro(['logs', taskId!, '--follow', '--api-key', globexKey]);
  expect(foreignFollow.code).toBe(1);
  expect(foreignFollow.stderr).toMatch(/not found|does not exist/);
  const keys = await maestro(['keys', 'ls', '--json']);
  expect(keys.code).toBe(0);
  expect((JSON.parse(keys.stdout) as { keys: Array<{ id: string; revokedAt?: string | null }> }).keys.find((k) => k.id === reader.id)?.revokedAt).toBeTruthy();

  const defs = await maestro(['defs', 'ls']);
  expect({ code: defs.code, stderr: defs.stderr }).toEqual({ code: 0, stderr: '' });
  expect(defs.stdout).toMatch(/^NAME +VERSION +CREATED/);

  const badLimit = await maestro(['ls', '--limit', 'many']);
  expect(badLimit.code).toBe(2);
  expect(badLimit.stderr).toContain('--limit: expected a whole number');
  const badFlag = await maestro(['show', taskId!, '--colour']);
  expect(badFlag.code).toBe(2);
  expect(badFlag.stderr).toContain('unknown option --colour');
  const unknownTask = await maestro(['show', 'no-such-task']);
  expect(unknownTask.code).toBe(1);

  const down = await maestro(['down']);
  expect(down.code).toBe(0);
  expect(down.stdout).toContain(`stopped ${pids.length} processes`);
  expect(pids.filter((p) => runs(p.pid, p.entry))).toEqual([]);
  expect(existsSync(join(stateDir, 'cluster.json'))).toBe(false);
  expect(existsSync(join(stateDir, 'api-key'))).toBe(false);
});

it('a foreground maestro up killed with SIGKILL leaves no service running', async () => {
  // Its own process group, as a terminal would start it; nothing of it can handle SIGKILL.
  const up = spawn(process.execPath, [main, 'up', '--skip-servers'], { env: maestroEnv(), cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  up.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  up.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<void>((r) => up.once('exit', () => r()));
  for (let i = 0; i < 1200 && !stdout.includes('Ctrl-C stops the cluster'); i++) await new Promise((r) => setTimeout(r, 100));
  expect(stdout).toContain('Ctrl-C stops the cluster');
  const services = readState().processes.map((p) => ({ pid: p.pid, entry: p.entry }));
  pids = services;
  expect(services.length).toBeGreaterThanOrEqual(8);
  expect(services.every((p) => runs(p.pid, p.entry))).toBe(true);

  up.kill('SIGKILL');
  await exited;
  // The watchdog gives them SIGTERM and, at worst, SIGKILL after the 15 s grace.
  for (let i = 0; i < 600 && services.some((p) => runs(p.pid, p.entry)); i++) await new Promise((r) => setTimeout(r, 100));
  expect(services.filter((p) => runs(p.pid, p.entry))).toEqual([]);
});
