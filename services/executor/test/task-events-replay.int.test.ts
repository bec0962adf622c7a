/**
 * The replay of stored `task.updated` events on the real NATS (127.0.0.1:4222), in a namespace
 * of its own: its bounds and its skipping of malformed events, and the executor's replay after
 * a reconnect, with the executor's connection cut by a TCP proxy of the test's own while the
 * server (and the test's direct connection) stay up.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connectBus, type Bus } from '@maestro/bus';
import { Streams, Subjects, SubtaskResultSchema, type SubtaskResult, type SubtaskWork } from '@maestro/contracts';
import { createSilentLogger, systemClock, type LogFields, type Logger } from '@maestro/runtime';
import { KvWorkResultStore, WORK_RESULTS_BUCKET } from '../src/store/kv-work-result-store.js';
import { EndedTasks } from '../src/domain/ended-tasks.js';
import { createExecutor, type Executor } from '../src/executor.js';
import { TEST_REPO_ROOTS } from './math-repo.js';
import { RecordingWriteGuard } from './recording-write-guard.js';
import { replayTaskEnds } from '../src/transport/nats/task-events.replay.js';
import { waitFor } from '@maestro/testing';

const NATS_PORT = 4222;
const silent = createSilentLogger();

/** A logger that keeps its messages, so the test can see when the executor has replayed. */
class RecordingLogger implements Logger {
  constructor(readonly lines: { level: string; message: string; fields?: LogFields }[] = []) {}
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', message, ...(fields ? { fields } : {}) });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', message, ...(fields ? { fields } : {}) });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', message, ...(fields ? { fields } : {}) });
  }
  child(): Logger {
    return this;
  }
  count(message: string): number {
    return this.lines.filter((l) => l.message === message).length;
  }
}

/** A TCP proxy to the NATS server that can drop its connections and refuse new ones. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  private readonly server: Server = createServer((client) => {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(NATS_PORT, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }
  cut(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }
  resume(): void {
    this.refusing = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}


describe('task events replay on real NATS', () => {
  let namespace: string;
  let bus: Bus;

  const cancel = (taskId: string) => ({ taskId, runId: 'run-replay', status: 'cancelled', at: new Date().toISOString() });

  beforeEach(async () => {
    namespace = `exrep${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    bus = await connectBus({ url: `nats://127.0.0.1:${NATS_PORT}`, name: 'executor-replay-test', logger: silent, namespace });
    await bus.ensureStreams();
  });

  afterEach(async () => {
    for (const s of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(s.name)).catch(() => undefined);
    await bus.close();
  });

  it('records stored final statuses, skips malformed and non-final events, and leaves no consumer behind', async () => {
    const subject = bus.namespace.subject(Subjects.taskUpdated);
    await bus.js.publish(subject, '{not json');
    await bus.js.publish(subject, JSON.stringify({ taskId: 'no-status' }));
    await bus.publish(Subjects.taskUpdated, cancel('t-1'));
    await bus.publish(Subjects.taskUpdated, { ...cancel('t-2'), status: 'running' });
    await bus.publish(Subjects.taskUpdated, { ...cancel('t-3'), status: 'failed' });
    await bus.publish(Subjects.taskUpdated, { ...cancel('t-1'), status: 'failed' });
    // Another event subject in the same stream is not read.
    await bus.publish(Subjects.runStarted, { runId: 'run-replay', taskId: 't-9' });

    const ended = new EndedTasks();
    const logger = new RecordingLogger();
    const summary = await replayTaskEnds(bus, ended, logger, { clock: systemClock });

    expect(summary).toEqual({ read: 6, ended: 2, malformed: 2, unauthenticated: 0, cut: false });
    expect(ended.get('t-1')).toBe('cancelled');
    expect(ended.get('t-2')).toBeUndefined();
    expect(ended.get('t-3')).toBe('failed');
    expect(logger.count('task events replayed')).toBe(1);
    const consumers = [];
    for await (const ci of bus.jsm.consumers.list(bus.namespace.stream(Streams.events.name))) consumers.push(ci.name);
    expect(consumers).toEqual([]);
  });

  it('stops at maxMessages and warns that the replay was cut', async () => {
    for (const id of ['a', 'b', 'c', 'd']) await bus.publish(Subjects.taskUpdated, cancel(`t-${id}`));
    const ended = new EndedTasks();
    const logger = new RecordingLogger();

    const summary = await replayTaskEnds(bus, ended, logger, { clock: systemClock, maxMessages: 2 });

    expect(summary).toEqual({ read: 2, ended: 2, malformed: 0, unauthenticated: 0, cut: true });
    expect(ended.get('t-a')).toBe('cancelled');
    expect(ended.get('t-c')).toBeUndefined();
    expect(logger.lines.find((l) => l.level === 'warn')?.message).toBe(
      'task events replay cut short; work of tasks that ended in the unread part may still run',
    );
  });

  it('warns and records nothing when the events stream does not exist', async () => {
    await bus.jsm.streams.delete(bus.namespace.stream(Streams.events.name));
    const ended = new EndedTasks();
    const logger = new RecordingLogger();

    const summary = await replayTaskEnds(bus, ended, logger, { clock: systemClock });

    expect(summary).toEqual({ read: 0, ended: 0, malformed: 0, unauthenticated: 0, cut: false });
    expect(ended.size).toBe(0);
    expect(logger.lines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'warn task events could not be replayed; only task ends heard live will stop work',
    ]);
  });

  describe('after a reconnect', () => {
    let proxy: CuttableProxy;
    let executorBus: Bus;
    let results: KvWorkResultStore;
    let executor: Executor | undefined;

    beforeEach(async () => {
      proxy = new CuttableProxy();
      const port = await proxy.listen();
      executorBus = await connectBus({ url: `nats://127.0.0.1:${port}`, name: 'executor-replay-test-proxied', logger: silent, namespace });
      results = await KvWorkResultStore.open(bus.connection, { bucket: bus.namespace.stream(WORK_RESULTS_BUCKET) });
    });

    afterEach(async () => {
      await executor?.shutdown(5_000);
      executor = undefined;
      await results.destroy().catch(() => undefined);
      await executorBus.close().catch(() => undefined);
      await proxy.close();
    });

    it('replays the task ends published while the executor was disconnected', async () => {
      const logger = new RecordingLogger();
      let modelCalls = 0;
      executor = await createExecutor({
        settings: { executorId: 'exec-replay', concurrency: 1, maxSteps: 5, maxDeliver: 3, ackWaitMs: 30_000, lockTtlMs: 60_000, repoRoots: TEST_REPO_ROOTS },
        bus: executorBus,
        logger,
        results,
        collaborators: {
          createModel: () => ({
            complete: async () => {
              modelCalls++;
              throw new Error('this model must not be called: the task ended');
            },
          }),
          createWriteGuard: () => new RecordingWriteGuard(),
        },
      });
      await executor.start();
      expect(logger.count('task events replayed')).toBe(1);

      // The executor's connection drops; the cancel is stored while it is away.
      proxy.cut();
      await waitFor('the executor to notice the disconnect', () => (executorBus.connected ? undefined : true));
      const taskId = `task-${randomUUID().slice(0, 8)}`;
      await bus.publish(Subjects.taskUpdated, cancel(taskId));
      proxy.resume();
      await waitFor('the replay after the reconnect', () => (logger.count('task events replayed') === 2 ? true : undefined));

      const work: SubtaskWork = {
        workId: `sub-${taskId}:1`,
        taskId,
        runId: 'run-replay',
        subtaskId: `sub-${taskId}`,
        attempt: 1,
        goal: 'g',
        title: 't',
        instructions: 'i',
        files: [],
        repoPath: '/tmp',
        testCommand: [],
        project: 'p',
      };
      await bus.publish(Subjects.subtaskWork, work, { msgId: work.workId });
      const result = await waitFor('the failed result', async (): Promise<SubtaskResult | undefined> => {
        const stream = bus.namespace.stream(Streams.results.name);
        const info = await bus.jsm.streams.info(stream);
        if (info.state.messages === 0) return undefined;
        const msg = await bus.jsm.streams.getMessage(stream, { seq: info.state.first_seq });
        return SubtaskResultSchema.parse(msg?.json());
      });

      expect(result).toMatchObject({ workId: work.workId, taskId, ok: false, steps: 0 });
      expect(result.failureReason).toBe(`task ${taskId} ended (cancelled) before this subtask started`);
      expect(modelCalls).toBe(0);
    });
  });
});
