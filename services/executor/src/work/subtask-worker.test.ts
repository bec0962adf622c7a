import type { SubtaskWork } from '@maestro/contracts';
import { ManualClock, OperationalError, createSilentLogger } from '@maestro/runtime';
import { EndedTasks } from '../domain/ended-tasks.js';
import { resultOf } from '../domain/escalation.js';
import { ExecutorStats } from '../domain/executor-stats.js';
import { MemoryPublisher, MemoryResults } from '../../test/memory-work-sinks.js';
import { SubtaskWorker } from './subtask-worker.js';


const probe: SubtaskWork = {
  workId: 'probe-1:1',
  taskId: 'canary',
  runId: 'canary',
  subtaskId: 'probe-1',
  attempt: 1,
  goal: '',
  title: 'probe',
  instructions: '',
  files: [],
  repoPath: '/nonexistent/repo',
  testCommand: [],
  project: 'canary',
  kind: 'probe',
  probeSentAt: 1_000,
};

function setup() {
  const clock = new ManualClock(1_000);
  const results = new MemoryResults();
  const publisher = new MemoryPublisher();
  const stats = new ExecutorStats();
  const touched: string[] = [];
  const endedTasks = new EndedTasks({ clock });
  const worker = new SubtaskWorker({
    executorId: 'exec-unit',
    results,
    publisher,
    stats,
    logger: createSilentLogger(),
    budget: { maxSteps: 5 },
    // Probes never look at a repository.
    repoRoots: [],
    clock,
    endedTasks,
    // A probe must never build a model or a write guard (so never runs the agent loop).
    createModel: () => {
      touched.push('model');
      throw new Error('probe built a model');
    },
    createWriteGuard: () => {
      touched.push('write guard');
      throw new Error('probe built a write guard');
    },
  });
  return { clock, results, publisher, stats, touched, worker, endedTasks };
}

describe('SubtaskWorker with probe work', () => {
  it('stores, then publishes an ok result without a model, a write guard or the repository', async () => {
    const { worker, results, publisher, stats, touched, clock } = setup();
    clock.advance(2);
    const result = resultOf(await worker.handle(probe, { working: () => undefined }));

    expect(touched).toEqual([]);
    expect(result).toMatchObject({ workId: 'probe-1:1', ok: true, executorId: 'exec-unit', steps: 0 });
    expect(result.summary).toBe('probe: picked up 2.000 ms after probeSentAt; worked 0 ms; startedAt=1002.000');
    expect(results.byWorkId.get('probe-1:1')).toEqual(result);
    expect(publisher.results).toEqual([result]);
    expect(publisher.finished).toHaveLength(1);
    expect(stats.snapshot()).toMatchObject({ completed: 1, failed: 0, inFlight: 0 });
  });

  it('runs a probe even when its task id is among the ended tasks', async () => {
    const { worker, endedTasks, touched } = setup();
    endedTasks.observe(probe.taskId, 'cancelled');
    const result = await worker.handle(probe, { working: () => undefined });
    expect(touched).toEqual([]);
    expect(result).toMatchObject({ ok: true });
  });

  it('does not redo a probe whose result is stored: the stored result is published again', async () => {
    const { worker, publisher, stats } = setup();
    const first = await worker.handle(probe, { working: () => undefined });
    const again = await worker.handle({ ...probe, probeSentAt: 5_000 }, { working: () => undefined });

    expect(again).toEqual(first);
    expect(publisher.results).toEqual([first, first]);
    expect(publisher.finished).toHaveLength(1);
    expect(stats.snapshot().completed).toBe(1);
  });

  it('fails a poison probe with a retryable error every time, storing nothing', async () => {
    const { worker, results, publisher } = setup();
    for (let i = 0; i < 3; i++) {
      const err: unknown = await worker.handle({ ...probe, probeFail: true }, { working: () => undefined }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationalError);
      expect(err).toMatchObject({ code: 'PROBE_FAILED' });
    }
    expect(results.byWorkId.size).toBe(0);
    expect(publisher.results).toEqual([]);
  });

  it('sleeps probeWorkMs on its clock before finishing', async () => {
    const { worker, publisher, clock } = setup();
    const pending = worker.handle({ ...probe, probeWorkMs: 3_000 }, { working: () => undefined });
    await new Promise((r) => setImmediate(r));
    clock.advance(2_999);
    await new Promise((r) => setImmediate(r));
    expect(publisher.results).toEqual([]);
    clock.advance(1);
    const result = resultOf(await pending);
    expect(result.summary).toContain('worked 3000 ms');
    expect(publisher.results).toEqual([result]);
  });

  it('hands a sleeping probe back when the executor shuts down', async () => {
    const { worker, results, publisher, clock } = setup();
    const shutdown = new AbortController();
    const pending = worker.handle({ ...probe, probeWorkMs: 60_000 }, { working: () => undefined, signal: shutdown.signal });
    await new Promise((r) => setImmediate(r));
    shutdown.abort();

    await expect(pending).rejects.toMatchObject({ code: 'WORK_HANDED_BACK' });
    expect(clock.pendingTimers).toBe(0);
    expect(results.byWorkId.size).toBe(0);
    expect(publisher.results).toEqual([]);
  });
});
