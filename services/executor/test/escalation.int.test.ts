/**
 * A failing agent escalates, on the real NATS (127.0.0.1:4222): the executor runs the agent loop
 * with the escalation demo's script (`examples/scripts/escalation-script.json`, replayed by the
 * ScriptedProvider) in a copy of `examples/sample-repo`, publishes the failure packet on
 * `maestro.escalations.<taskId>` instead of a failed result, re-publishes it (without redoing the
 * work) on a redelivery, and a second attempt dispatched with Orion's hint succeeds. A refusal
 * because the task's budget is spent is a plain failed result, not an escalation.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import { connectBus, type Bus } from '@maestro/bus';
import { EscalationSchema, Streams, Subjects, SubtaskResultSchema, type Escalation, type SubtaskResult, type SubtaskWork } from '@maestro/contracts';
import { ScriptedProvider } from '@maestro/llm';
import { createSilentLogger, UserError } from '@maestro/runtime';
import { KvWorkResultStore, WORK_RESULTS_BUCKET } from '../src/store/kv-work-result-store.js';
import type { SubtaskWriteGuard } from '../src/domain/ports.js';
import { TEST_REPO_ROOTS } from './math-repo.js';
import { RecordingWriteGuard } from './recording-write-guard.js';
import { createExecutor, type Executor } from '../src/executor.js';
import { waitFor } from '@maestro/testing';

const NATS_URL = 'nats://127.0.0.1:4222';
const ROOT = resolve(__dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'examples', 'scripts', 'escalation-script.json');
const logger = createSilentLogger();

/** A ChatModel over the escalation demo's script, counting calls and the roles it was asked as. */
class ScriptModel implements ChatModel {
  calls = 0;
  private readonly provider = ScriptedProvider.fromFile(SCRIPT);

  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    this.calls++;
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }
}

const grantAll = (): SubtaskWriteGuard => new RecordingWriteGuard();

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

function sampleRepo(): string {
  const repo = mkdtempSync(join(tmpdir(), 'executor-escalation-'));
  cpSync(join(ROOT, 'examples', 'sample-repo'), repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'add', '-A');
  git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'initial');
  git(repo, 'config', 'user.email', 't@example.invalid');
  git(repo, 'config', 'user.name', 't');
  return repo;
}


describe('an executor whose agent fails', () => {
  let bus: Bus;
  let results: KvWorkResultStore;
  let executor: Executor | undefined;
  let repo: string;
  let worktreeRoot: string;
  const taskId = randomUUID();

  const stream = (name: string) => bus.namespace.stream(name);

  async function messages<T>(streamName: string, parse: (value: unknown) => T): Promise<T[]> {
    const info = await bus.jsm.streams.info(stream(streamName));
    const out: T[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await bus.jsm.streams.getMessage(stream(streamName), { seq }).catch(() => null);
      if (msg) out.push(parse(msg.json()));
    }
    return out;
  }
  const escalations = () => messages<Escalation>(Streams.escalations.name, (v) => EscalationSchema.parse(v));
  const resultsOnBus = () => messages<SubtaskResult>(Streams.results.name, (v) => SubtaskResultSchema.parse(v));

  async function start(model: ChatModel): Promise<Executor> {
    const started = await createExecutor({
      settings: { executorId: 'exec-esc', concurrency: 1, maxSteps: 10, maxDeliver: 3, ackWaitMs: 30_000, lockTtlMs: 60_000, worktreeRoot, repoRoots: TEST_REPO_ROOTS },
      bus,
      logger,
      results,
      collaborators: { createModel: () => model, createWriteGuard: grantAll },
    });
    await started.start();
    return started;
  }

  function work(attempt: number, overrides: Partial<SubtaskWork> = {}): SubtaskWork {
    return {
      workId: `${taskId}:s1:${attempt}`, taskId, runId: 'run-esc', subtaskId: 's1', attempt,
      goal: 'Add a divide helper to the calculator, with tests: divide(a, b) returns a / b and throws a RangeError when b is 0.',
      title: 'Create src/divide.js',
      instructions: 'Export divide(a, b) from src/divide.js returning a / b, and throwing a RangeError when b is 0. Cover both in test/divide.test.js.',
      files: ['src/divide.js', 'test/divide.test.js'], repoPath: repo, testCommand: ['npm', 'test'], project: 'sample-calculator',
      ...overrides,
    };
  }

  beforeEach(async () => {
    const namespace = `exesc${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    bus = await connectBus({ url: NATS_URL, name: 'executor-escalation-test', logger, namespace, apiTimeoutMs: 15_000 });
    await bus.ensureStreams();
    results = await KvWorkResultStore.open(bus.connection, { bucket: bus.namespace.stream(WORK_RESULTS_BUCKET) });
    repo = sampleRepo();
    worktreeRoot = mkdtempSync(join(tmpdir(), 'executor-escalation-wt-'));
  });

  afterEach(async () => {
    await executor?.shutdown(5_000);
    executor = undefined;
    await results.destroy().catch(() => undefined);
    for (const s of Object.values(Streams)) await bus.jsm.streams.delete(stream(s.name)).catch(() => undefined);
    await bus.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreeRoot, { recursive: true, force: true });
  });

  it('escalates with the failure packet, never redoes it, and the hinted attempt succeeds', async () => {
    const model = new ScriptModel();
    executor = await start(model);

    const first = work(1);
    await bus.publish(Subjects.subtaskWork, first, { msgId: first.workId });
    const [escalation] = await waitFor('the escalation', async () => {
      const all = await escalations();
      return all.length > 0 ? all : undefined;
    });

    expect(escalation).toMatchObject({
      escalationId: first.workId, taskId, runId: 'run-esc', subtaskId: 's1', attempt: 1, executorId: 'exec-esc',
      packet: {
        reason: 'tests_failed',
        subtask: { title: 'Create src/divide.js', files: ['src/divide.js', 'test/divide.test.js'] },
        steps: 3,
        filesChanged: ['src/divide.js', 'test/divide.test.js'],
      },
      result: { workId: first.workId, ok: false, failureReason: 'stuck: declared done 2 times with the same failing test output' },
    });
    const { packet } = escalation!;
    expect(packet.attempts.map((a) => [a.summary, a.ok])).toEqual([
      ['npm test: failed (exit 1)', false],
      ['npm test: failed (exit 1)', false],
    ]);
    expect(packet.failingTestOutput).toContain('divide refuses to divide by zero');
    expect(packet.lastDiff).toContain('+  return a / b;');
    expect(packet.lastDiff).toContain('assert.throws(() => divide(1, 0), RangeError)');
    expect(packet.agentAccount).toContain('the zero test must be wrong');
    expect(packet.tokensSpent.input).toBeGreaterThan(0);
    // An escalation takes the place of the failed result: nothing on the results queue.
    expect(await resultsOnBus()).toEqual([]);
    expect(await results.get(first.workId)).toEqual(escalation);
    const calls = model.calls;

    // A redelivery re-publishes the stored escalation (deduplicated by the stream), and never reruns the agent.
    await bus.publish(Subjects.subtaskWork, first, { msgId: `${first.workId}#again` });
    await waitFor('the redelivery to be acked', async () => ((await bus.jsm.streams.info(stream(Streams.work.name))).state.messages === 0 ? true : undefined));
    expect(model.calls).toBe(calls);
    expect(await escalations()).toHaveLength(1);

    // Orion's hint: the next attempt fixes the code and succeeds.
    const second = work(2, { hint: 'Keep test/divide.test.js as it is. In src/divide.js, throw a RangeError before dividing when b is 0.' });
    await bus.publish(Subjects.subtaskWork, second, { msgId: second.workId });
    const [result] = await waitFor('the result of the hinted attempt', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });
    // The commit is on the task branch (the escalated attempt's test file was carried into the
    // hinted attempt's worktree, as the hint assumes); the user's branch is untouched.
    const branch = `maestro/${taskId}`;
    expect(result).toMatchObject({ workId: second.workId, ok: true, commitSha: git(repo, 'rev-parse', branch), merged: { branch } });
    expect(result?.filesChanged).toEqual(['src/divide.js', 'test/divide.test.js']);
    expect(result?.tests).toMatchObject({ command: ['npm', 'test'], passed: true });
    expect(git(repo, 'show', `${branch}:src/divide.js`)).toContain("throw new RangeError('division by zero')");
    expect(git(repo, 'show', '--name-only', '--format=', branch).split('\n').sort()).toEqual(['src/divide.js', 'test/divide.test.js']);
    expect(git(repo, 'rev-list', '--count', 'main')).toBe('1');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    // The carried work is forgotten once the subtask's commit landed.
    expect(() => git(repo, 'rev-parse', '-q', '--verify', `refs/maestro/carried/${taskId}/s1`)).toThrow();
  });

  it("fails plainly, naming BUDGET_EXHAUSTED, when the router refuses because the task's budget is spent", async () => {
    const refusing: ChatModel = {
      complete: async () => {
        throw new UserError('BUDGET_EXHAUSTED', 'task budget of 1 USD spent (1.02 USD)', { reason: 'precondition' });
      },
    };
    executor = await start(refusing);
    const item = work(1);
    await bus.publish(Subjects.subtaskWork, item, { msgId: item.workId });
    const [result] = await waitFor('the failed result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });
    expect(result).toMatchObject({ workId: item.workId, ok: false, failureReason: 'BUDGET_EXHAUSTED: task budget of 1 USD spent (1.02 USD)' });
    expect(await escalations()).toEqual([]);
  });
});
