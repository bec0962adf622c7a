/**
 * The executor end to end on the real NATS (127.0.0.1:4222): the shared durable work consumer,
 * the KV result store and the publishers, in a namespace of their own, against a temporary git
 * repository. The model is the ScriptedProvider (its replies are scripted, and say so); the
 * write guard is in-process and records the concerns it is asked for. Neither the router nor
 * the lock-manager is involved.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import { connectBus, type Bus } from '@maestro/bus';
import {
  ExecutorAdminServiceClient,
  ExecutorAdminServiceService,
  Streams,
  Subjects,
  SubtaskResultSchema,
  type SubtaskResult,
  type SubtaskWork,
} from '@maestro/contracts';
import { ScriptedProvider, parseScript } from '@maestro/llm';
import { OperationalError, createGrpcClient, createGrpcServer, createLogger, createSilentLogger, systemClock, type Clock } from '@maestro/runtime';
import { KvWorkResultStore, WORK_RESULTS_BUCKET } from '../src/store/kv-work-result-store.js';
import { RecordingWriteGuard } from './recording-write-guard.js';
import { git, makeMathRepo, subtractWork, TEST_REPO_ROOTS } from './math-repo.js';
import { createExecutor, type Executor } from '../src/executor.js';
import { createExecutorAdminHandlers } from '../src/transport/grpc/executor-admin.handler.js';
import { waitFor } from '@maestro/testing';

const NATS_URL = 'nats://127.0.0.1:4222';
const logger = process.env.EXINT_LOG ? createLogger({ service: 'executor-int-test', level: 'debug' }) : createSilentLogger();

const script = parseScript({
  description: 'executor integration test: add subtract() to math.js and commit',
  rules: [
    {
      name: 'subtract',
      when: { intent: 'code', contains: 'Add subtract()' },
      turns: [
        {
          toolCalls: [
            {
              name: 'fs.write',
              arguments: {
                path: 'math.js',
                content: 'exports.add = (a, b) => a + b;\nexports.subtract = (a, b) => a - b;\n',
              },
            },
          ],
        },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add subtract()' } }] },
        { content: 'Added subtract() to math.js and committed it.' },
      ],
    },
  ],
});

/** A ChatModel over the ScriptedProvider, counting calls so a redone subtask would show. */
class CountingScriptedModel implements ChatModel {
  calls = 0;
  private readonly provider = new ScriptedProvider(script, 'executor-int-test');

  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    this.calls++;
    const result = await this.provider.complete({ model: 'scripted', intent: 'code', ...request });
    return { message: result.message, usage: result.usage, scripted: result.scripted, provider: 'scripted', model: 'scripted' };
  }
}

/**
 * A model whose call never answers on its own: it waits for its signal, so the subtask stays
 * in flight until something aborts it, and it records that the abort reached it.
 */
class HangingModel implements ChatModel {
  calls = 0;
  abortSeen = false;
  private markStarted: () => void = () => undefined;
  readonly started = new Promise<void>((resolve) => {
    this.markStarted = resolve;
  });

  complete(request: ChatModelRequest): Promise<ChatModelReply> {
    this.calls++;
    this.markStarted();
    return new Promise((_, reject) => {
      request.signal?.addEventListener(
        'abort',
        () => {
          this.abortSeen = true;
          reject(new Error('model call aborted'));
        },
        { once: true },
      );
    });
  }
}

const makeRepo = (): string => makeMathRepo('executor-int-');

const workFor = (repo: string, overrides: Partial<SubtaskWork> = {}): SubtaskWork => subtractWork(repo, overrides);


describe('executor on real NATS', () => {
  let namespace: string;
  let bus: Bus;
  let results: KvWorkResultStore;
  let executor: Executor | undefined;
  let worktreeRoot: string;
  const repos: string[] = [];

  const stream = (name: string) => bus.namespace.stream(name);

  /**
   * Creates and starts an executor whose agents use `model` and record their locks in write
   * guards (returned, one per subtask) instead of asking a lock-manager.
   */
  async function startExecutor(
    model: ChatModel,
    options: { executorId?: string; concurrency?: number; maxDeliver?: number; clock?: Clock } = {},
  ): Promise<{ executor: Executor; guards: RecordingWriteGuard[] }> {
    const guards: RecordingWriteGuard[] = [];
    const started = await createExecutor({
      settings: {
        executorId: options.executorId ?? 'exec-int',
        concurrency: options.concurrency ?? 1,
        maxSteps: 10,
        maxDeliver: options.maxDeliver ?? 3,
        ackWaitMs: 30_000,
        lockTtlMs: 60_000,
        worktreeRoot,
        repoRoots: TEST_REPO_ROOTS,
      },
      bus,
      logger,
      results,
      ...(options.clock ? { clock: options.clock } : {}),
      collaborators: {
        createModel: () => model,
        createWriteGuard: () => {
          const guard = new RecordingWriteGuard();
          guards.push(guard);
          return guard;
        },
      },
    });
    await started.start();
    return { executor: started, guards };
  }

  async function resultsOnBus(): Promise<SubtaskResult[]> {
    const info = await bus.jsm.streams.info(stream(Streams.results.name));
    const out: SubtaskResult[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await bus.jsm.streams.getMessage(stream(Streams.results.name), { seq }).catch(() => null);
      if (msg) out.push(SubtaskResultSchema.parse(msg.json()));
    }
    return out;
  }

  async function eventCount(subject: string): Promise<number> {
    const info = await bus.jsm.streams.info(stream(Streams.events.name), { subjects_filter: '>' });
    return info.state.subjects?.[bus.namespace.subject(subject)] ?? 0;
  }

  async function consumerNames(streamName: string): Promise<string[]> {
    const names: string[] = [];
    for await (const ci of bus.jsm.consumers.list(stream(streamName))) names.push(ci.name);
    return names;
  }

  async function workLeft(): Promise<number> {
    return (await bus.jsm.streams.info(stream(Streams.work.name))).state.messages;
  }

  beforeEach(async () => {
    namespace = `exint${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    worktreeRoot = mkdtempSync(join(tmpdir(), 'executor-int-wt-'));
    bus = await connectBus({ url: NATS_URL, name: 'executor-int-test', logger, namespace });
    await bus.ensureStreams();
    results = await KvWorkResultStore.open(bus.connection, { bucket: bus.namespace.stream(WORK_RESULTS_BUCKET) });
  });

  afterEach(async () => {
    await executor?.shutdown(5_000);
    executor = undefined;
    await results.destroy().catch(() => undefined);
    for (const s of Object.values(Streams)) await bus.jsm.streams.delete(stream(s.name)).catch(() => undefined);
    await bus.close();
    for (const repo of repos.splice(0)) rmSync(repo, { recursive: true, force: true });
    rmSync(worktreeRoot, { recursive: true, force: true });
  });

  it('completes a subtask once, and a redelivery of the same work item is not redone', async () => {
    const repo = makeRepo();
    repos.push(repo);
    const model = new CountingScriptedModel();
    const started = await startExecutor(model, { concurrency: 2 });
    executor = started.executor;
    const { guards } = started;

    const work = workFor(repo);
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    const [result] = await waitFor('the subtask result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });

    // The result tells the orchestrator what happened, with evidence.
    expect(result).toMatchObject({
      workId: work.workId,
      taskId: 'task-int',
      subtaskId: work.subtaskId,
      ok: true,
      executorId: 'exec-int',
      filesChanged: ['math.js'],
    });
    expect(result?.tests).toMatchObject({ command: ['node', '--test'], exitCode: 0, passed: true });
    expect(result?.tests?.outputTail).toMatch(/pass 2/);
    // The commit landed on the task's branch; the user's branch and working tree are untouched.
    const head = git(repo, 'rev-parse', 'maestro/task-int');
    expect(result?.commitSha).toBe(head);
    expect(result?.merged).toEqual({ branch: 'maestro/task-int', sha: head });
    expect(result?.worktree?.startsWith(realpathSync(worktreeRoot))).toBe(true);
    expect(git(repo, 'show', 'maestro/task-int:math.js')).toContain('exports.subtract');
    expect(git(repo, 'log', '-1', '--format=%s', 'maestro/task-int')).toBe('Add subtract()');
    expect(readFileSync(join(repo, 'math.js'), 'utf8')).not.toContain('exports.subtract');
    expect(git(repo, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    // The attempt's worktree is gone.
    expect(existsSync(result!.worktree!)).toBe(false);
    expect(git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);

    // Writes went through the guard, named by the repository (not the worktree): the file first,
    // then the git index for the merge; released at the end.
    const realRepo = git(repo, 'rev-parse', '--show-toplevel');
    expect(guards).toHaveLength(1);
    expect(guards[0]?.concerns).toEqual([`file:${join(realRepo, 'math.js')}`, `git-index:${realRepo}`]);
    expect(guards[0]?.released).toBe(1);

    // The result is stored for idempotency, and watchers saw steps and one finish.
    expect(await results.get(work.workId)).toEqual(result);
    expect(await eventCount(Subjects.workStep)).toBeGreaterThanOrEqual(3);
    await waitFor('the finished event', async () => ((await eventCount(Subjects.workFinished)) === 1 ? true : undefined));
    const callsAfterFirst = model.calls;

    // Redelivery of the same work item (as after a lost ack): a different message id so
    // JetStream's own de-duplication does not hide it from the executor.
    await bus.publish(Subjects.subtaskWork, work, { msgId: `${work.workId}#redelivered` });
    await waitFor('the redelivered work to be acked', async () => ((await workLeft()) === 0 ? true : undefined));

    expect(model.calls).toBe(callsAfterFirst);
    expect(guards).toHaveLength(1);
    expect(git(repo, 'rev-list', '--count', 'maestro/task-int')).toBe('2'); // initial + exactly one new commit
    expect(git(repo, 'rev-parse', 'maestro/task-int')).toBe(head);
    // Re-published with msgId = workId, so the results stream still holds the result once.
    expect(await resultsOnBus()).toEqual([result]);
    expect(await eventCount(Subjects.workFinished)).toBe(1);
    expect(executor.status()).toMatchObject({ executorId: 'exec-int', completed: 1, failed: 0, inFlight: 0 });
  });

  it('does not blame the agent for tests that already failed before it started (the baseline)', async () => {
    const repo = makeRepo();
    repos.push(repo);
    writeFileSync(
      join(repo, 'legacy.test.js'),
      "const test = require('node:test');\nconst assert = require('node:assert');\ntest('legacy rounding', () => assert.strictEqual(0.1 + 0.2, 0.3));\n",
    );
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'a test that fails on HEAD');
    executor = (await startExecutor(new CountingScriptedModel())).executor;

    const work = workFor(repo, { baselineFailures: ['legacy rounding'], baselineExitCode: 1 });
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    const [result] = await waitFor('the subtask result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });
    expect(result).toMatchObject({ workId: work.workId, ok: true, filesChanged: ['math.js'] });
    expect(result?.tests).toMatchObject({ exitCode: 1, passed: true });
    expect(result?.summary).toContain('legacy rounding');
  });

  it('reports dead-lettered work as a failed result so the task does not hang', async () => {
    const model = new CountingScriptedModel();
    executor = (await startExecutor(model)).executor;

    // The ids are intact but the payload breaks the schema (no repoPath): poison.
    const { repoPath: _dropped, ...broken } = workFor('/nowhere');
    await bus.publish(Subjects.subtaskWork, broken, { msgId: broken.workId });
    const [result] = await waitFor('the failed result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });

    expect(result).toMatchObject({ workId: broken.workId, subtaskId: broken.subtaskId, ok: false, steps: 0 });
    expect(result?.failureReason).toMatch(/^work dead-lettered: malformed payload/);
    expect(result?.failureReason).toContain('repoPath');
    expect(model.calls).toBe(0);
    // The original bytes are kept in the dead-letter stream for an operator.
    const dlq = await bus.jsm.streams.info(stream(Streams.deadLetter.name));
    expect(dlq.state.messages).toBe(1);
    expect(executor.status()).toMatchObject({ completed: 0, failed: 1 });
  });

  it('fails a subtask whose repository is not on this executor, without running the model', async () => {
    const model = new CountingScriptedModel();
    executor = (await startExecutor(model)).executor;

    const work = workFor(join(tmpdir(), `executor-int-missing-${randomUUID()}`));
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    const [result] = await waitFor('the failed result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });

    expect(result).toMatchObject({ workId: work.workId, ok: false, steps: 0 });
    expect(result?.failureReason).toContain(`repoPath ${work.repoPath} does not exist`);
    expect(model.calls).toBe(0);
    expect(await results.get(work.workId)).toEqual(result);
  });

  it('hands work back while the model is unreachable, then reports it failed after maxDeliver', async () => {
    let calls = 0;
    const unreachable: ChatModel = {
      complete: async () => {
        calls++;
        throw new OperationalError('ROUTER_UNAVAILABLE', 'router unreachable (test)');
      },
    };
    const repo = makeRepo();
    repos.push(repo);
    executor = (await startExecutor(unreachable, { maxDeliver: 2 })).executor;

    const work = workFor(repo);
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    const [result] = await waitFor('the failed result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });

    expect(calls).toBe(2); // one per delivery: retried once, then given up
    expect(result).toMatchObject({ workId: work.workId, ok: false });
    expect(result?.failureReason).toMatch(/^work dead-lettered: .*ROUTER_UNAVAILABLE/);
    expect(git(repo, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('does not start queued work of a task cancelled before the work arrived', async () => {
    const repo = makeRepo();
    repos.push(repo);
    const model = new CountingScriptedModel();
    const started = await startExecutor(model);
    executor = started.executor;
    const { guards } = started;

    const taskId = `task-${randomUUID().slice(0, 8)}`;
    await bus.publish(Subjects.taskUpdated, { taskId, runId: 'run-int', status: 'cancelled', reason: 'user cancelled', at: new Date().toISOString() });
    const work = workFor(repo, { taskId });
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    const [result] = await waitFor('the failed result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });

    expect(result).toMatchObject({ workId: work.workId, taskId, ok: false, steps: 0 });
    expect(result?.failureReason).toBe(`task ${taskId} ended (cancelled) before this subtask started`);
    expect(model.calls).toBe(0);
    expect(guards).toHaveLength(0);
    expect(git(repo, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    // Acked, not handed back: nothing is left to be redelivered.
    await waitFor('the work to be acked', async () => ((await workLeft()) === 0 ? true : undefined));
    expect(await results.get(work.workId)).toEqual(result);
  });

  it('does not start queued work of a task that ended before the executor started (replayed from the stream)', async () => {
    const repo = makeRepo();
    repos.push(repo);
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    // Stored in MAESTRO_EVENTS while no executor listens; malformed neighbours are skipped.
    const subject = bus.namespace.subject(Subjects.taskUpdated);
    await bus.js.publish(subject, 'not json');
    await bus.js.publish(subject, JSON.stringify({ taskId, state: 'cancelled' }));
    await bus.publish(Subjects.taskUpdated, { taskId, runId: 'run-int', status: 'cancelled', reason: 'user cancelled', at: new Date().toISOString() });
    await bus.publish(Subjects.taskUpdated, { taskId: 'other-task', runId: 'run-int', status: 'running', at: new Date().toISOString() });

    const model = new CountingScriptedModel();
    const started = await startExecutor(model);
    executor = started.executor;
    const { guards } = started;

    const work = workFor(repo, { taskId });
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    const [result] = await waitFor('the failed result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });

    expect(result).toMatchObject({ workId: work.workId, taskId, ok: false, steps: 0 });
    expect(result?.failureReason).toBe(`task ${taskId} ended (cancelled) before this subtask started`);
    expect(model.calls).toBe(0);
    expect(guards).toHaveLength(0);
    expect(git(repo, 'rev-list', '--count', 'HEAD')).toBe('1');
    await waitFor('the work to be acked', async () => ((await workLeft()) === 0 ? true : undefined));
    // The replay's ephemeral consumer is gone: only the shared work consumer remains anywhere.
    expect(await consumerNames(Streams.events.name)).toEqual([]);
  });

  it('replays only the last 24 h of task events, by the injected clock', async () => {
    const repo = makeRepo();
    repos.push(repo);
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    await bus.publish(Subjects.taskUpdated, { taskId, runId: 'run-int', status: 'cancelled', at: new Date().toISOString() });

    // 25 h later by the executor's clock, that cancel is outside the window: the work runs.
    const later = Date.now() + 25 * 60 * 60 * 1000;
    const model = new CountingScriptedModel();
    executor = (await startExecutor(model, { clock: { ...systemClock, now: () => later } })).executor;

    const work = workFor(repo, { taskId });
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    const [result] = await waitFor('the result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });
    expect(result).toMatchObject({ workId: work.workId, taskId, ok: true });
    expect(model.calls).toBeGreaterThan(0);
  });

  it('stops a running subtask when its task is cancelled, reports it failed, and does not redeliver it', async () => {
    const repo = makeRepo();
    repos.push(repo);
    const model = new HangingModel();
    const started = await startExecutor(model);
    executor = started.executor;
    const { guards } = started;

    const taskId = `task-${randomUUID().slice(0, 8)}`;
    const work = workFor(repo, { taskId });
    await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
    await model.started;
    await bus.publish(Subjects.taskUpdated, { taskId, runId: 'run-int', status: 'cancelled', at: new Date().toISOString() });

    const [result] = await waitFor('the failed result', async () => {
      const all = await resultsOnBus();
      return all.length > 0 ? all : undefined;
    });
    expect(model.abortSeen).toBe(true);
    expect(result).toMatchObject({ workId: work.workId, taskId, ok: false });
    expect(result?.failureReason).toBe(`task ${taskId} ended (cancelled) while this subtask ran; stopped`);
    expect(guards).toHaveLength(1);
    expect(guards[0]?.released).toBe(1);
    expect(git(repo, 'rev-list', '--count', 'HEAD')).toBe('1');

    // Acked rather than nak'ed: the work stream is empty, the model was asked once, and the
    // drain finds nothing in flight that could come back.
    await waitFor('the work to be acked', async () => ((await workLeft()) === 0 ? true : undefined));
    await executor.shutdown(5_000);
    expect(model.calls).toBe(1);
    expect(await resultsOnBus()).toEqual([result]);
    expect(executor.status()).toMatchObject({ completed: 0, failed: 1, inFlight: 0 });
  });

  it('serves status and drain over gRPC', async () => {
    executor = (await startExecutor(new CountingScriptedModel(), { executorId: 'exec-admin', concurrency: 3 })).executor;
    const server = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.ExecutorAdminService'] });
    server.add(ExecutorAdminServiceService, createExecutorAdminHandlers(executor));
    const port = await server.start();
    const client = createGrpcClient(ExecutorAdminServiceClient, `127.0.0.1:${port}`);
    try {
      expect(await client.call.getStatus({})).toEqual({
        executorId: 'exec-admin',
        draining: false,
        inFlight: 0,
        completed: 0,
        failed: 0,
        concurrency: 3,
      });
      expect(await client.call.drain({})).toMatchObject({ executorId: 'exec-admin', draining: true });
      expect(await client.call.getStatus({})).toMatchObject({ draining: true });
    } finally {
      client.close();
      await server.shutdown();
    }
  });
});
