/**
 * The executor work queue with REAL executor processes (`node services/executor/dist/main.js`)
 * on the real NATS (127.0.0.1:4222), each test in a bus namespace of its own. The work is probe
 * work (`kind: 'probe'`), which takes the whole executor path without a model, a repository,
 * the router or the lock-manager. The test reads what a user of the queue would see: the
 * `SubtaskResult`s on `maestro.results.subtask` (through a durable consumer of its own), the
 * `work.finished` events (one per item actually worked), and the dead-letter stream.
 */
import { randomUUID } from 'node:crypto';
import { connectBus, type Bus, type WorkConsumer } from '@maestro/bus';
import {
  Consumers,
  DeadLetterHeaders,
  Streams,
  Subjects,
  SubtaskResultSchema,
  WorkFinishedEventSchema,
  type SubtaskResult,
  type SubtaskWork,
} from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';
import { testBusSigningKey, waitFor } from '@maestro/testing';
import { WORK_RESULTS_BUCKET } from '../src/store/kv-work-result-store.js';
import { buildExecutor, ExecutorProcess, type ExecutorProcessOptions } from './executor-process.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const logger = createSilentLogger();


function probe(index: number, overrides: Partial<SubtaskWork> = {}): SubtaskWork {
  const subtaskId = `probe-${index}-${randomUUID().slice(0, 8)}`;
  return {
    workId: `${subtaskId}:1`,
    taskId: 'queue-int',
    runId: 'queue-int',
    subtaskId,
    attempt: 1,
    goal: '',
    title: 'probe',
    instructions: '',
    files: [],
    // A path that exists nowhere: a probe must never look at it.
    repoPath: `/nonexistent/queue-int/${subtaskId}`,
    testCommand: [],
    project: 'queue-int',
    kind: 'probe',
    probeSentAt: Date.now(),
    ...overrides,
  };
}

describe('executor work queue with real executor processes', () => {
  let namespace: string;
  let bus: Bus;
  let resultsConsumer: WorkConsumer;
  let results: SubtaskResult[];
  /** work.finished events by subtaskId: one per time an item was actually worked. */
  let finished: Map<string, number>;
  const processes: ExecutorProcess[] = [];

  beforeAll(() => {
    buildExecutor();
  }, 300_000);

  beforeEach(async () => {
    namespace = `qint${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    bus = await connectBus({ url: NATS_URL, name: 'queue-int-test', logger, namespace, signing: { key: testBusSigningKey } });
    await bus.ensureStreams();
    results = [];
    finished = new Map();
    resultsConsumer = await bus.consume({
      stream: Streams.results.name,
      durable: 'queue-int-results',
      filterSubject: Subjects.subtaskResult,
      schema: SubtaskResultSchema,
      concurrency: 64,
      handler: async (result) => {
        results.push(result);
      },
    });
    bus.subscribe(Subjects.workFinished, WorkFinishedEventSchema, (event) => {
      finished.set(event.subtaskId, (finished.get(event.subtaskId) ?? 0) + 1);
    });
  });

  afterEach(async () => {
    for (const p of processes.splice(0)) await p.dispose();
    await resultsConsumer.stop();
    for (const s of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(s.name)).catch(() => undefined);
    await bus.jsm.streams.delete(`KV_${bus.namespace.stream(WORK_RESULTS_BUCKET)}`).catch(() => undefined);
    await bus.close();
  });

  async function startExecutor(executorId: string, options: Omit<ExecutorProcessOptions, 'executorId' | 'namespace'> = {}) {
    const proc = await ExecutorProcess.start({ executorId, namespace, ...options });
    processes.push(proc);
    return proc;
  }

  async function publishAll(items: SubtaskWork[]): Promise<void> {
    await Promise.all(items.map((w) => bus.publish(Subjects.subtaskWork, w, { msgId: w.workId })));
  }

  function resultsFor(items: SubtaskWork[]): Promise<SubtaskResult[]> {
    const wanted = new Set(items.map((w) => w.workId));
    return waitFor(`${wanted.size} results`, () => {
      const mine = results.filter((r) => wanted.has(r.workId));
      return new Set(mine.map((r) => r.workId)).size === wanted.size ? mine : undefined;
    });
  }

  /**
   * Waits for a work.finished of each of `items` (published after the result, so it can trail
   * it), then pauses long enough for a duplicate to have shown up.
   */
  async function settle(items: SubtaskWork[] = []): Promise<void> {
    await waitFor('a work.finished for every item', () => (items.every((w) => finished.has(w.subtaskId)) ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_000));
  }

  it('three executors take 300 work items and each is completed exactly once', async () => {
    const executors = await Promise.all(['q-a', 'q-b', 'q-c'].map((id) => startExecutor(id, { concurrency: 2 })));
    // A little work per item, so no single executor can drain the queue before the others pull.
    const items = Array.from({ length: 300 }, (_, i) => probe(i, { probeWorkMs: 10 }));
    await publishAll(items);

    const got = await resultsFor(items);
    await settle(items);

    const perWork = new Map<string, number>();
    for (const r of results) perWork.set(r.workId, (perWork.get(r.workId) ?? 0) + 1);
    expect(perWork.size).toBe(300);
    expect([...perWork.values()].every((n) => n === 1)).toBe(true);
    expect(got.every((r) => r.ok && r.summary.startsWith('probe: '))).toBe(true);
    // Worked once each, not merely reported once (results are de-duplicated by workId).
    expect(items.every((w) => finished.get(w.subtaskId) === 1)).toBe(true);

    const byExecutor = new Map<string, number>();
    for (const r of got) byExecutor.set(r.executorId, (byExecutor.get(r.executorId) ?? 0) + 1);
    expect([...byExecutor.keys()].sort()).toEqual(['q-a', 'q-b', 'q-c']);
    const statuses = await Promise.all(executors.map((e) => e.status()));
    expect(statuses.reduce((sum, s) => sum + s.completed, 0)).toBe(300);
    expect(statuses.every((s) => s.failed === 0 && s.inFlight === 0)).toBe(true);
  });

  it('redelivers the work of a SIGKILLed executor to another, which completes it', async () => {
    const victim = await startExecutor('q-victim', { concurrency: 4, ackWaitMs: 2_000 });
    // Long enough that the victim still holds its items once the survivor has started (seconds on a loaded machine).
    const items = Array.from({ length: 4 }, (_, i) => probe(i, { probeWorkMs: 15_000 }));
    await publishAll(items);
    // The victim holds long work before anyone else is there to take it.
    await waitFor('the victim to hold work', async () => ((await victim.status()).inFlight > 0 ? true : undefined));
    const survivor = await startExecutor('q-survivor', { concurrency: 4, ackWaitMs: 2_000 });
    const held = (await victim.status()).inFlight;

    victim.signal('SIGKILL');
    expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const got = await resultsFor(items);
    await settle(items);

    expect(results).toHaveLength(4);
    expect(got.every((r) => r.ok)).toBe(true);
    // What the victim held could only have been finished by the survivor after redelivery.
    const bySurvivor = got.filter((r) => r.executorId === 'q-survivor');
    expect(bySurvivor.length).toBeGreaterThanOrEqual(held);
    expect(got.filter((r) => r.executorId === 'q-victim')).toHaveLength(4 - bySurvivor.length);
    expect(items.every((w) => finished.get(w.subtaskId) === 1)).toBe(true);
    expect((await survivor.status()).completed).toBe(bySurvivor.length);
  }, 120_000);

  it('dead-letters a poison item after MAX_DELIVER tries and reports it failed, while the rest finish', async () => {
    await startExecutor('q-p1', { concurrency: 2, maxDeliver: 3 });
    await startExecutor('q-p2', { concurrency: 2, maxDeliver: 3 });
    const poison = probe(999, { probeFail: true });
    const healthy = Array.from({ length: 30 }, (_, i) => probe(i, { probeWorkMs: 5 }));
    await publishAll([poison, ...healthy.slice(0, 15)]);
    await publishAll(healthy.slice(15));

    const got = await resultsFor([poison, ...healthy]);
    await settle();

    const failed = got.filter((r) => !r.ok);
    expect(failed.map((r) => r.workId)).toEqual([poison.workId]);
    expect(failed[0]?.failureReason).toMatch(/^work dead-lettered: failed 3 times; last error PROBE_FAILED: /);
    expect(got.filter((r) => r.ok).map((r) => r.workId).sort()).toEqual(healthy.map((w) => w.workId).sort());
    expect(results).toHaveLength(31);

    const dlqSubject = bus.namespace.subject(Subjects.deadLetter(Subjects.subtaskWork));
    expect(dlqSubject).toBe(`${namespace}.maestro.dlq.maestro.work.executor.code`);
    const dead = await bus.jsm.streams.getMessage(bus.namespace.stream(Streams.deadLetter.name), { last_by_subj: dlqSubject });
    expect(dead).not.toBeNull();
    expect((dead?.json() as SubtaskWork).workId).toBe(poison.workId);
    expect(dead?.header.get(DeadLetterHeaders.deliveries)).toBe('3');
    expect(dead?.header.get(DeadLetterHeaders.reason)).toContain('PROBE_FAILED');
    const dlqInfo = await bus.jsm.streams.info(bus.namespace.stream(Streams.deadLetter.name));
    expect(dlqInfo.state.messages).toBe(1);
    // Nothing is left waiting for the executors, and the poison item is not held either.
    const queue = await bus.jsm.consumers.info(bus.namespace.stream(Streams.work.name), bus.namespace.consumer(Consumers.executorWork));
    expect(queue.num_pending).toBe(0);
    expect(queue.num_ack_pending).toBe(0);
  });

  it('on SIGTERM finishes the work it holds, then exits 0', async () => {
    const exec = await startExecutor('q-drain', { concurrency: 2, drainTimeoutMs: 20_000 });
    // Long enough to be seen in hand (both at once) on a loaded machine; the drain waits for it.
    const items = Array.from({ length: 2 }, (_, i) => probe(i, { probeWorkMs: 10_000 }));
    await publishAll(items);
    await waitFor('both items in hand', async () => ((await exec.status()).inFlight === 2 ? true : undefined));

    exec.signal('SIGTERM');
    expect(await exec.exited).toEqual({ code: 0, signal: null });

    const got = await resultsFor(items);
    expect(got.every((r) => r.ok && r.executorId === 'q-drain')).toBe(true);
    expect(items.every((w) => finished.get(w.subtaskId) === 1)).toBe(true);
    expect(exec.logs.some((l) => l.msg === 'executor draining: no new work will be pulled')).toBe(true);
  });

  it('on SIGTERM past its drain timeout hands the work back, exits 0, and another executor completes it', async () => {
    const leaving = await startExecutor('q-leaving', { concurrency: 2, drainTimeoutMs: 300 });
    // Long enough that the items are still in hand after the second executor has started (a
    // few seconds on a loaded machine); handed back at the drain timeout, not worked to the end.
    const items = Array.from({ length: 2 }, (_, i) => probe(i, { probeWorkMs: 15_000 }));
    await publishAll(items);
    await waitFor('both items in hand', async () => ((await leaving.status()).inFlight === 2 ? true : undefined));
    // Already waiting for work when the handed-back items become deliverable again. (Also
    // needed on NATS 2.9.10: nak delays that expire while no pull request waits lose one
    // message until ack_wait and deliver another twice; see the README, "Known limits".)
    await startExecutor('q-staying', { concurrency: 2 });
    expect((await leaving.status()).inFlight).toBe(2);

    leaving.signal('SIGTERM');
    expect(await leaving.exited).toEqual({ code: 0, signal: null });
    expect(leaving.logs.some((l) => l.msg === 'drain timed out; handing in-flight subtasks back')).toBe(true);

    const got = await resultsFor(items);
    await settle(items);
    expect(results).toHaveLength(2);
    expect(got.every((r) => r.ok && r.executorId === 'q-staying')).toBe(true);
    expect(items.every((w) => finished.get(w.subtaskId) === 1)).toBe(true);
  }, 120_000);
});
