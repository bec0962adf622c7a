/**
 * The `maestro` client commands that only had argument-level tests, run from the built dist as
 * a user runs them against a live gateway (a harness cluster with scripted models, cheaper than
 * `maestro up`, which cli.int covers): `run --json` prints JSON lines ending in the outcome;
 * `cancel` stops a task held in the middle of a subtask (the `run` following it ends with
 * exit 1 and `cancelled`) and refuses an unknown id plainly; `logs --follow` started while a
 * task is held at a gate prints its state changes and the agent steps taken after it started,
 * and exits 0 on its own when the run ends; `defs get`, `defs put` (a new version, and an invalid
 * document refused naming the path at fault, nothing stored) and `defs diff`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Subjects, WorkStepEventSchema, type WorkStepEvent } from '@maestro/contracts';
import { runToEnd, waitFor, waitUntil, type RunResult } from '@maestro/testing';
import { getJson, repoRoot, startE2eCluster, writeE2eScript, type E2eCluster } from './harness.js';

jest.setTimeout(180_000);

const main = join(repoRoot, 'packages', 'cli', 'dist', 'main.js');
const holdScript = join(repoRoot, 'examples', 'scripts', 'hold-until-file.mjs');
/** Marks the goal of the task the cancel test holds at the gate (its plan rule looks for it). */
const HOLD_MARKER = '[cli-cancel-hold]';
/** Marks the goal of the task the logs test holds at its own gate (the cancel test opens the other for good). */
const FOLLOW_MARKER = '[cli-logs-follow-hold]';
/** How long a held agent waits at its gate: just under the exec tool's 120 s limit; the tests open or cancel long before. */
const GATE_HOLD_MS = 110_000;

/** A scratch directory: the gate file, the definition documents. */
const scratch = mkdtempSync(join(tmpdir(), 'maestro-cli-commands-'));
const gateFile = join(scratch, 'gate-open');
const followGateFile = join(scratch, 'follow-gate-open');

/**
 * The scripted models: a goal carrying {@link HOLD_MARKER} (or {@link FOLLOW_MARKER}) plans one
 * subtask whose agent writes a file, waits at the gate (its own gate) and then commits the file;
 * any other goal plans one that writes and commits a file.
 */
function writeScript(): string {
  const planOf = (name: string) => ({ subtasks: [{ id: 's1', title: `Create src/${name}.js`, instructions: `Export ${name}().`, files: [`src/${name}.js`] }] });
  const write = (name: string) => ({ toolCalls: [{ name: 'fs.write', arguments: { path: `src/${name}.js`, content: `export function ${name}() {\n  return '${name}';\n}\n` } }] });
  const commit = (name: string) => ({ toolCalls: [{ name: 'git.commit', arguments: { message: `Add ${name}`, paths: [`src/${name}.js`] } }] });
  const holdAt = (gate: string) => ({ toolCalls: [{ name: 'exec', arguments: { argv: ['node', holdScript, gate, String(GATE_HOLD_MS)] } }] });
  return writeE2eScript('cli commands e2e: one subtask per task, the held ones waiting at a gate', [
    { name: 'plan-held', when: { intent: 'plan', contains: HOLD_MARKER }, turns: [{ content: JSON.stringify(planOf('held')) }] },
    { name: 'plan-followed', when: { intent: 'plan', contains: FOLLOW_MARKER }, turns: [{ content: JSON.stringify(planOf('followed')) }] },
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(planOf('alpha')) }] },
    {
      name: 'code-held',
      when: { intent: 'code', contains: 'Create src/held.js' },
      turns: [write('held'), holdAt(gateFile), commit('held'), { content: 'Added held.' }],
    },
    {
      name: 'code-followed',
      when: { intent: 'code', contains: 'Create src/followed.js' },
      turns: [write('followed'), holdAt(followGateFile), commit('followed'), { content: 'Added followed.' }],
    },
    { name: 'code-alpha', when: { intent: 'code', contains: 'Create src/alpha.js' }, turns: [write('alpha'), commit('alpha'), { content: 'Added alpha.' }] },
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'the helper is added' }) }] },
  ]);
}

let e2e: E2eCluster;
let scriptPath = '';

/** The environment `maestro` runs with: the harness cluster's gateway and its operator key. */
function maestroEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    MAESTRO_GATEWAY_URL: e2e.gateway,
    MAESTRO_API_KEY: e2e.apiKey,
  };
}

/** Runs `maestro <args>` from the built dist against the harness cluster's gateway, with its operator key. */
function maestro(args: string[], timeoutMs = 150_000): Promise<RunResult> {
  return runToEnd(process.execPath, [main, ...args], { env: maestroEnv(), cwd: scratch, timeoutMs });
}

/** A `maestro` command still running: what it has printed so far, and how it ends. */
interface RunningMaestro {
  stdout(): string;
  /** Resolves when it has exited; rejects (after SIGKILL) if it runs past its time limit. */
  ended: Promise<RunResult>;
}

/**
 * Starts `maestro <args>` as {@link maestro} does, without waiting for it: for a command that
 * follows a task, whose output the test reads while the task goes on.
 */
function startMaestro(args: string[], timeoutMs = 150_000): RunningMaestro {
  const child = spawn(process.execPath, [main, ...args], { env: maestroEnv(), cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<RunResult>((resolveEnd, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`maestro ${args.join(' ')} did not end in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveEnd({ code, stdout, stderr });
    });
  });
  // Awaited by the test; handled here too, so a failure before that is not an unhandled rejection.
  ended.catch(() => undefined);
  return { stdout: () => stdout, ended };
}

/** The lines of `stdout`, each parsed as JSON (a line that is not JSON fails the test with the line). */
function jsonLines(stdout: string): Array<Record<string, unknown>> {
  const lines = stdout.trimEnd().split('\n');
  return lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
  });
}

/** What `maestro defs get` prints: one stored version. */
interface StoredDefinition {
  name: string;
  version: number;
  createdAt: string | null;
  definition: { states: Record<string, Record<string, unknown>> } & Record<string, unknown>;
}

/** A Node stack frame in a command's output: a user must never see one. */
const STACK_FRAME = /^\s+at .+[(:]\d+/m;

beforeAll(async () => {
  scriptPath = writeScript();
  // The hold script and the gate file live outside the agent's worktree: the sandbox lets its
  // commands read them (as the browser test's).
  e2e = await startE2eCluster({
    scriptPath,
    executors: 1,
    executorConcurrency: 2,
    env: { MAESTRO_SANDBOX_READ_PATHS: `${dirname(holdScript)}:${scratch}` },
  });
});

afterAll(async () => {
  // A held agent is let go before its executor is stopped.
  writeFileSync(gateFile, 'open\n');
  writeFileSync(followGateFile, 'open\n');
  await e2e?.stop();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(join(scriptPath, '..'), { recursive: true, force: true });
});

it('maestro run --json prints one JSON object a line, the last the succeeded outcome', async () => {
  const goal = 'Add the alpha helper.';
  const run = await maestro(['run', goal, '--repo', e2e.repo, '--json']);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

  const records = jsonLines(run.stdout);
  // run.ts: "--json  JSON lines for scripts: task, event, progress, result".
  expect(records.map((r) => r['type']).filter((t) => !['task', 'event', 'progress', 'result'].includes(String(t)))).toEqual([]);
  const first = records[0]!;
  expect(first['type']).toBe('task');
  const submitted = first['task'] as Record<string, unknown>;
  expect(submitted).toEqual(expect.objectContaining({ id: expect.any(String), runId: expect.any(String), goal }));
  const taskId = String(submitted['id']);

  const events = records.filter((r) => r['type'] === 'event');
  expect(events.length).toBeGreaterThan(0);
  expect(events.every((e) => typeof e['event'] === 'string' && e['data'] !== undefined)).toBe(true);
  expect(events.map((e) => e['event'])).toEqual(expect.arrayContaining(['work.step']));
  for (const p of records.filter((r) => r['type'] === 'progress')) {
    expect(p).toEqual(expect.objectContaining({ elapsedMs: expect.any(Number), state: expect.any(String) }));
  }

  const outcome = records[records.length - 1]!;
  expect(outcome).toEqual(expect.objectContaining({ type: 'result', taskId, status: 'succeeded', failureReason: '', exitCode: 0 }));
  expect(outcome['task']).toEqual(expect.objectContaining({ id: taskId, status: 'succeeded' }));
  expect(records.filter((r) => r['type'] === 'result')).toHaveLength(1);
  // The gateway agrees.
  expect((await getJson(`${e2e.gateway}/v1/tasks/${taskId}`))['status']).toBe('succeeded');
});

it('maestro cancel stops a running task (its follower exits 1, cancelled); an unknown id is refused plainly', async () => {
  const steps: WorkStepEvent[] = [];
  const sub = e2e.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e));
  try {
    // A user follows the task in one terminal and cancels it from another.
    const following = maestro(['run', `Add the held helper ${HOLD_MARKER}`, '--repo', e2e.repo, '--json']);
    // Awaited below; handled here too, so a failure before that is not an unhandled rejection.
    following.catch(() => undefined);
    // The agent has written its file and is waiting at the gate: the task is in the middle of a subtask.
    await waitUntil('the held agent past its write', () => steps.some((e) => e.kind === 'tool' && e.tool === 'fs.write' && e.ok), 120_000);
    const taskId = steps.find((e) => e.kind === 'tool' && e.tool === 'fs.write')!.taskId;
    expect((await getJson(`${e2e.gateway}/v1/tasks/${taskId}`))['status']).toBe('running');
    // Still at the gate (an exec step is published when its command ends).
    expect(steps.filter((e) => e.taskId === taskId && e.kind === 'tool' && e.tool === 'exec')).toEqual([]);

    const cancel = await maestro(['cancel', taskId, '--reason', 'the user changed their mind']);
    expect({ code: cancel.code, stderr: cancel.stderr }).toEqual({ code: 0, stderr: '' });
    // "cancelled", not "had already ended": the task was running; its reason is kept with it.
    expect(cancel.stdout).toBe(`task ${taskId} cancelled — the user changed their mind\n`);

    const followed = await following;
    expect({ code: followed.code, stderr: followed.stderr }).toEqual({ code: 1, stderr: '' });
    const records = jsonLines(followed.stdout);
    expect((records[0]!['task'] as Record<string, unknown>)['id']).toBe(taskId);
    expect(records[records.length - 1]).toEqual(expect.objectContaining({ type: 'result', taskId, status: 'cancelled', exitCode: 1 }));

    // The agent is told to stop at the gate: its subtask's result comes after the task ended.
    const subtaskEnded = async (): Promise<boolean> => {
      const subtasks = (await getJson(`${e2e.gateway}/v1/tasks/${taskId}`))['subtasks'] as Array<{ status: string }>;
      return subtasks.every((st) => !['pending', 'running'].includes(st.status));
    };
    await waitUntil('the held subtask to end', subtaskEnded, 60_000);
    const show = await maestro(['show', taskId, '--json']);
    expect({ code: show.code, stderr: show.stderr }).toEqual({ code: 0, stderr: '' });
    const shown = JSON.parse(show.stdout) as { id: string; status: string; updatedAt: string; subtasks: Array<{ id: string; status: string }> };
    expect(shown).toEqual(expect.objectContaining({ id: taskId, status: 'cancelled', failureReason: 'the user changed their mind' }));
    // Its agent was stopped at the gate: the subtask did not finish (the gate never opened).
    expect(shown.subtasks).toEqual([expect.objectContaining({ id: 's1', status: 'failed' })]);

    // Cancelling it again is no error, says so and changes nothing.
    const again = await maestro(['cancel', taskId]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(again.stdout).toBe(`task ${taskId} had already ended (cancelled); nothing to cancel\n`);
    expect(await getJson(`${e2e.gateway}/v1/tasks/${taskId}`)).toEqual(expect.objectContaining({ status: 'cancelled', updatedAt: shown.updatedAt }));
  } finally {
    sub.unsubscribe();
    writeFileSync(gateFile, 'open\n');
  }

  const unknownId = randomUUID();
  const unknown = await maestro(['cancel', unknownId]);
  expect(unknown).toEqual({ code: 1, stdout: '', stderr: `maestro cancel: task ${unknownId} does not exist\n` });
});

it('maestro logs --follow started while a task runs prints its live states and steps and exits 0 when it ends', async () => {
  const steps: WorkStepEvent[] = [];
  const sub = e2e.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e));
  try {
    // The task is submitted in one terminal (its `run` follows it too) and its logs followed from another.
    const submitting = startMaestro(['run', `Add the followed helper ${FOLLOW_MARKER}`, '--repo', e2e.repo, '--json']);
    const taskId = await waitFor(
      'the submitted task id',
      () => {
        const first = submitting.stdout().split('\n')[0] ?? '';
        if (!first.endsWith('}')) return undefined;
        return String(((JSON.parse(first) as Record<string, unknown>)['task'] as Record<string, unknown>)['id']);
      },
      60_000,
    );
    const stepsOfTask = (tool: string) => steps.filter((e) => e.taskId === taskId && e.kind === 'tool' && e.tool === tool);
    // The agent has written its file and waits at the gate.
    await waitUntil('the held agent past its write', () => stepsOfTask('fs.write').some((e) => e.ok), 120_000);
    expect((await getJson(`${e2e.gateway}/v1/tasks/${taskId}`))['status']).toBe('running');

    // Bounded below the test's own limit, so a follower that never ends fails with what it printed.
    const follower = startMaestro(['logs', taskId, '--follow'], 90_000);
    // Following: it has replayed the run so far, up to the agent's write.
    await waitUntil('the follower to show the recorded write', () => follower.stdout().includes(' tool fs.write: '), 60_000);
    // Still at the gate (an exec step is published when its command ends): whatever comes next happens after the follower started.
    expect(stepsOfTask('exec')).toEqual([]);
    const beforeGate = follower.stdout();
    expect(beforeGate).not.toContain(' tool exec');
    expect(beforeGate).not.toContain('run      finished');

    writeFileSync(followGateFile, 'open\n');
    const followed = await follower.ended;
    // It ends on its own when the run does (the usage: "until it ends"), no Ctrl-C needed.
    expect({ code: followed.code, stderr: followed.stderr }).toEqual({ code: 0, stderr: '' });
    const submitted = await submitting.ended;
    expect(submitted.code).toBe(0);
    const outcome = jsonLines(submitted.stdout).pop();
    expect(outcome).toEqual(expect.objectContaining({ type: 'result', taskId, status: 'succeeded', exitCode: 0 }));

    // One line per event, each stamped with the time it was printed.
    const lines = followed.stdout.trimEnd().split('\n');
    expect(lines.filter((line) => !/^\d\d:\d\d:\d\d \S/.test(line))).toEqual([]);
    const texts = lines.map((line) => line.slice(9));
    // Replayed first: the run so far, up to the agent's write at the gate.
    const replayedCount = beforeGate.trimEnd().split('\n').length;
    const replayed = texts.slice(0, replayedCount);
    expect(replayed).toEqual(
      expect.arrayContaining([
        'state    intake → preflight  (on activity.done)',
        'state    preflight → plan  (on activity.done)',
        'state    plan → code  (on activity.done)',
        expect.stringMatching(/^step     s1 #\d+ tool fs\.write: /),
      ]),
    );
    // Then, live, what happened after it started: the agent's steps past the gate (in the order
    // it took them), its subtask's end and the run's last state changes (in the order they happened).
    const live = texts.slice(replayedCount);
    const shown = {
      exec: /^step     s1 #\d+ tool exec: /,
      commit: /^step     s1 #\d+ tool git\.commit: /,
      subtaskEnd: /^subtask  s1 succeeded on \S+ — commit [0-9a-f]{10}$/,
      toReview: /^state    code → review {2}\(on activity\.done\)$/,
      toDone: /^state    review → done {2}\(on activity\.done\)$/,
    };
    const at = Object.fromEntries(Object.entries(shown).map(([name, pattern]) => [name, live.findIndex((text) => pattern.test(text))]));
    // The lines are in the failure message when one is missing.
    expect({ missing: Object.keys(at).filter((name) => at[name] === -1), live }).toEqual({ missing: [], live });
    const { exec, commit, toReview, toDone } = at as Record<keyof typeof shown, number>;
    expect(exec).toBeLessThan(commit);
    expect(toReview).toBeLessThan(toDone);
    // The last line is the end of the run, and it is shown once.
    expect(texts[texts.length - 1]).toBe('run      finished: done in state done');
    expect(texts.filter((text) => text.startsWith('run      finished'))).toHaveLength(1);
  } finally {
    sub.unsubscribe();
    writeFileSync(followGateFile, 'open\n');
  }
});

it('maestro defs get, put (a new version; an invalid document refused at its path, nothing stored) and diff', async () => {
  const got = await maestro(['defs', 'get', 'coding']);
  expect({ code: got.code, stderr: got.stderr }).toEqual({ code: 0, stderr: '' });
  const coding = JSON.parse(got.stdout) as StoredDefinition;
  expect(coding).toEqual(await getJson(`${e2e.gateway}/v1/definitions/coding`));
  expect(coding).toEqual(expect.objectContaining({ name: 'coding', version: 1 }));
  expect(Object.keys(coding.definition.states)).toEqual(expect.arrayContaining(['intake', 'plan', 'code', 'review', 'cancelled']));

  // A definition of the caller's own, from a copy of `coding`; then a modified copy of it.
  const name = 'cli_flow';
  const originalFile = join(scratch, 'cli-flow-1.json');
  writeFileSync(originalFile, JSON.stringify(coding.definition, null, 2));
  const first = await maestro(['defs', 'put', name, originalFile]);
  expect({ code: first.code, stderr: first.stderr, stdout: first.stdout }).toEqual({ code: 0, stderr: '', stdout: `${name}: stored as version 1\n` });
  const before = String(coding.definition.states['intake']!['description']);
  const after = `${before} (edited through maestro defs put)`;
  const modified = structuredClone(coding.definition);
  modified.states['intake']!['description'] = after;
  const modifiedFile = join(scratch, 'cli-flow-2.json');
  writeFileSync(modifiedFile, JSON.stringify(modified, null, 2));
  const put = await maestro(['defs', 'put', name, modifiedFile]);
  expect({ code: put.code, stderr: put.stderr, stdout: put.stdout }).toEqual({ code: 0, stderr: '', stdout: `${name}: stored as version 2\n` });
  // The same document again is no new version.
  const same = await maestro(['defs', 'put', name, modifiedFile]);
  expect({ code: same.code, stderr: same.stderr, stdout: same.stdout }).toEqual({ code: 0, stderr: '', stdout: `${name}: unchanged, still version 2\n` });

  const latest = await maestro(['defs', 'get', name]);
  expect(latest.code).toBe(0);
  expect(JSON.parse(latest.stdout)).toEqual(expect.objectContaining({ name, version: 2, definition: modified }));
  const v1 = await maestro(['defs', 'get', name, '--version', '1']);
  expect(v1.code).toBe(0);
  expect(JSON.parse(v1.stdout)).toEqual(expect.objectContaining({ name, version: 1, definition: coding.definition }));

  const diff = await maestro(['defs', 'diff', name, '1', '2']);
  expect({ code: diff.code, stderr: diff.stderr, stdout: diff.stdout }).toEqual({
    code: 0,
    stderr: '',
    stdout: `~ /states/intake/description: ${JSON.stringify(before)} → ${JSON.stringify(after)}\n`,
  });
  const diffJson = await maestro(['defs', 'diff', name, '1', '2', '--json']);
  expect(diffJson.code).toBe(0);
  expect(JSON.parse(diffJson.stdout)).toEqual(expect.objectContaining({ changes: [{ path: '/states/intake/description', op: 'changed', before, after }] }));
  const noChange = await maestro(['defs', 'diff', name, '2', '2']);
  expect({ code: noChange.code, stdout: noChange.stdout }).toEqual({ code: 0, stdout: `${name}: versions 2 and 2 are the same\n` });

  // An invalid document: a transition to a state that does not exist.
  const versionsBefore = await getJson(`${e2e.gateway}/v1/definitions/${name}/versions`);
  expect((versionsBefore['definitions'] as unknown[]).length).toBe(2);
  const broken = structuredClone(modified);
  const planOn = broken.states['plan']!['on'] as Record<string, Record<string, unknown>>;
  planOn['activity.done']!['target'] = 'cod';
  const brokenFile = join(scratch, 'cli-flow-broken.json');
  writeFileSync(brokenFile, JSON.stringify(broken));
  const refused = await maestro(['defs', 'put', name, brokenFile]);
  // A refused argument (HTTP 400) is exit 2, naming the field at fault.
  expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 2, stdout: '' });
  expect(refused.stderr).toMatch(/^maestro defs put: /);
  expect(refused.stderr).toContain('states.plan.on["activity.done"].target: unknown state "cod"');
  expect(refused.stderr).toContain('(field states.plan.on["activity.done"].target)');
  expect(refused.stderr).not.toMatch(STACK_FRAME);
  // Nothing stored: the same versions, the latest still version 2.
  expect(await getJson(`${e2e.gateway}/v1/definitions/${name}/versions`)).toEqual(versionsBefore);
  const still = await maestro(['defs', 'get', name]);
  expect(JSON.parse(still.stdout)).toEqual(expect.objectContaining({ version: 2, definition: modified }));
});
