import { HandBackError, type Bus, type DeliveryContext, type WorkConsumerOptions } from '@maestro/bus';
import { Consumers, Subjects } from '@maestro/contracts';
import { createSilentLogger, ManualClock, OperationalError, parsePrometheusText, Registry, sampleValue } from '@maestro/runtime';
import { divideEscalationRecord } from '../test/reflex-records.js';
import { subtaskRecord, taskRecord } from '../test/task-records.js';
import type { EscalationRecord } from './domain/escalations.js';
import type { SubtaskRecord, TaskRecord } from './domain/task.js';
import {
  createOrchestratorMetrics,
  instrumentActivityRequests,
  instrumentAgentStepStore,
  instrumentTaskStore,
  trackUnfinishedTasks,
  type OrchestratorMetrics,
} from './metrics.js';
import type { AgentStepStore } from './store/agent-step-store.js';
import type { LockedTask, TaskStore } from './store/task-store.js';

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics());
}

function setUp() {
  const registry = new Registry();
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  return { registry, clock, metrics: createOrchestratorMetrics(registry) };
}

/**
 * A task store holding one task in memory, whose transactions roll back on a throw, as
 * PostgreSQL's do. Only what the decorator touches is implemented.
 */
function oneTaskStore(state: { task: TaskRecord; subtasks: SubtaskRecord[]; escalations: EscalationRecord[] }): TaskStore {
  const store: Partial<TaskStore> = {
    async insertTask() {
      return { task: state.task, created: true };
    },
    async withLockedTask(_taskId, fn) {
      const saved = structuredClone(state);
      const locked: Partial<LockedTask> = {
        task: state.task,
        subtasks: async () => structuredClone(state.subtasks),
        async update(patch) {
          state.task = { ...state.task, ...patch } as TaskRecord;
          return state.task;
        },
        async updateSubtask(id, patch) {
          state.subtasks = state.subtasks.map((s) => (s.id === id ? ({ ...s, ...patch } as SubtaskRecord) : s));
        },
        escalations: async () => structuredClone(state.escalations),
        async insertEscalation(e) {
          const record = divideEscalationRecord({ escalationId: e.escalation.escalationId, status: e.status, decision: e.decision });
          state.escalations.push(record);
          return record;
        },
        async updateEscalation(id, patch) {
          state.escalations = state.escalations.map((e) => (e.escalationId === id ? { ...e, ...patch } : e));
          return state.escalations.find((e) => e.escalationId === id)!;
        },
      };
      try {
        return await fn(locked as LockedTask);
      } catch (err) {
        Object.assign(state, saved);
        throw err;
      }
    },
  };
  return store as TaskStore;
}

describe('instrumentTaskStore', () => {
  it('counts each task status a committed transaction entered, and none of a rolled-back one', async () => {
    const { registry, clock, metrics } = setUp();
    const state = { task: taskRecord({ status: 'pending' }), subtasks: [], escalations: [] };
    const store = instrumentTaskStore(oneTaskStore(state), metrics, clock);
    await store.insertTask({} as never);
    await store.withLockedTask('t1', (locked) => locked.update({ status: 'running' }));
    await store.withLockedTask('t1', (locked) => locked.update({ runId: 'run-2' }));
    await expect(
      store.withLockedTask('t1', async (locked) => {
        await locked.update({ status: 'succeeded' });
        throw new Error('publish failed');
      }),
    ).rejects.toThrow('publish failed');
    await store.withLockedTask('t1', async (locked) => {
      await locked.update({ status: 'failed' });
      await locked.update({ failureReason: 'x' });
    });
    const parsed = await scrape(registry);
    expect(sampleValue(parsed, 'maestro_task_status_changes_total', { status: 'pending' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_task_status_changes_total', { status: 'running' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_task_status_changes_total', { status: 'succeeded' })).toBe(0);
    expect(sampleValue(parsed, 'maestro_task_status_changes_total', { status: 'failed' })).toBe(1);
    expect(state.task.status).toBe('failed');
  });

  it('times a dispatched attempt from its dispatch to its end, once, and not a subtask that never ran', async () => {
    const { registry, clock, metrics } = setUp();
    const dispatchedAt = new Date(clock.now());
    const state = {
      task: taskRecord(),
      subtasks: [subtaskRecord('s1', { dispatchedAt }), subtaskRecord('s2', { dispatchedAt }), subtaskRecord('s3', { status: 'pending', dispatchedAt: null, dispatchedAttempt: null })],
      escalations: [],
    };
    const store = instrumentTaskStore(oneTaskStore(state), metrics, clock);
    clock.advance(90_000);
    await store.withLockedTask('t1', async (locked) => {
      await locked.subtasks();
      await locked.updateSubtask('s1', { status: 'succeeded' });
      await locked.updateSubtask('s1', { status: 'succeeded', summary: 'again' });
      await locked.updateSubtask('s3', { status: 'failed' });
    });
    clock.advance(30_000);
    // No subtasks read first: the decorator reads the before itself.
    await store.withLockedTask('t1', (locked) => locked.updateSubtask('s2', { status: 'pending', hint: 'try again' }));
    const parsed = await scrape(registry);
    expect(sampleValue(parsed, 'maestro_subtask_attempt_duration_seconds_count', { outcome: 'succeeded' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_subtask_attempt_duration_seconds_sum', { outcome: 'succeeded' })).toBe(90);
    expect(sampleValue(parsed, 'maestro_subtask_attempt_duration_seconds_count', { outcome: 'retried' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_subtask_attempt_duration_seconds_sum', { outcome: 'retried' })).toBe(120);
    expect(sampleValue(parsed, 'maestro_subtask_attempt_duration_seconds_count')).toBe(2);
  });

  it('counts an escalation decided (or failed at once over the limits) by outcome, once', async () => {
    const { registry, clock, metrics } = setUp();
    const pending = divideEscalationRecord({ escalationId: 'e1', status: 'pending', decision: null });
    const state = { task: taskRecord(), subtasks: [], escalations: [pending] };
    const store = instrumentTaskStore(oneTaskStore(state), metrics, clock);
    const decision = { kind: 'replan' as const, reason: 'split it', subtasks: ['s1a'], at: '2030-01-01T00:00:00.000Z' };
    await store.withLockedTask('t1', async (locked) => {
      await locked.escalations();
      await locked.updateEscalation('e1', { claimedUntil: null });
      await locked.updateEscalation('e1', { status: 'decided', decision });
    });
    // A later write of the same escalation (the reflex mark) or a repeat is no new decision.
    await store.withLockedTask('t1', (locked) => locked.updateEscalation('e1', { status: 'decided', decision }));
    await store.withLockedTask('t1', (locked) =>
      locked.insertEscalation({
        escalation: divideEscalationRecord({}, 's2').escalation,
        status: 'failed',
        decision: { kind: 'fail', reason: 'over the limit', at: '2030-01-01T00:00:00.000Z' },
        claimedUntil: null,
        decidedAt: new Date(),
      }),
    );
    const parsed = await scrape(registry);
    expect(sampleValue(parsed, 'maestro_escalations_total', { outcome: 'replan' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_escalations_total', { outcome: 'fail' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_escalations_total')).toBe(2);
  });
});

describe('instrumentAgentStepStore', () => {
  it('counts recordings by kind and outcome', async () => {
    const { registry, metrics } = setUp();
    const outcomes = ['recorded', 'duplicate'] as const;
    let calls = 0;
    const steps = instrumentAgentStepStore({ record: async () => outcomes[calls++ % 2]! } as Partial<AgentStepStore> as AgentStepStore, metrics);
    const step = { kind: 'tool' } as Parameters<AgentStepStore['record']>[0];
    expect(await steps.record(step)).toBe('recorded');
    expect(await steps.record(step)).toBe('duplicate');
    const parsed = await scrape(registry);
    expect(sampleValue(parsed, 'maestro_agent_steps_recorded_total', { kind: 'tool', outcome: 'recorded' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_agent_steps_recorded_total', { kind: 'tool', outcome: 'duplicate' })).toBe(1);
  });
});

describe('instrumentActivityRequests', () => {
  /** A bus whose consumers are handed to the test, and whose publishes succeed. */
  function handBus() {
    const consumers = new Map<string, WorkConsumerOptions<unknown>>();
    const bus: Pick<Bus, 'consume' | 'publish' | 'publishEvent'> = {
      consume: async <T>(options: WorkConsumerOptions<T>) => {
        consumers.set(options.durable, options as WorkConsumerOptions<unknown>);
        return { stop: async () => undefined, inFlight: 0 };
      },
      publish: async () => undefined,
      publishEvent: async () => undefined,
    };
    return { bus, consumers };
  }
  const delivery: DeliveryContext = { subject: 'maestro.work.orchestrator.plan', deliveryCount: 1, working: () => undefined, logger: createSilentLogger() };
  const request = (activity: string, workId: string) => ({ workId, activity, runId: 'r', state: activity, attempt: 1, context: {}, requestedAt: '' });

  async function run(metrics: OrchestratorMetrics, clock: ManualClock, body: (publish: Bus['publish'], workId: string) => Promise<void>, activity = 'plan') {
    const { bus, consumers } = handBus();
    const instrumented = instrumentActivityRequests(bus, metrics, clock);
    await instrumented.consume({
      stream: 'S', durable: Consumers.orchestratorWork, filterSubject: 'x', schema: {} as never,
      handler: (payload: { workId: string }) => body(instrumented.publish, payload.workId),
    });
    const workId = `w-${Math.random()}`;
    return consumers.get(Consumers.orchestratorWork)!.handler(request(activity, workId), delivery);
  }

  it('times each handling by activity, its outcome told by the result it published', async () => {
    const { registry, clock, metrics } = setUp();
    const result = (workId: string, ok: boolean) => ({ workId, ok });
    await run(metrics, clock, async (publish, workId) => {
      clock.advance(2_000);
      await publish(Subjects.activityResult, result(workId, true));
    });
    await run(metrics, clock, async (publish, workId) => publish(Subjects.activityResult, result(workId, false)), 'review');
    await run(metrics, clock, async () => clock.advance(500), 'code');
    await expect(run(metrics, clock, async () => Promise.reject(new OperationalError('ROUTER_DOWN', 'down')))).rejects.toThrow('down');
    await expect(run(metrics, clock, async () => Promise.reject(new HandBackError('shutting down')))).rejects.toThrow('shutting down');
    await run(metrics, clock, async (publish, workId) => publish(Subjects.activityResult, result(workId, false)), 'mine');
    const parsed = await scrape(registry);
    const count = (activity: string, outcome: string) => sampleValue(parsed, 'maestro_orchestrator_activity_duration_seconds_count', { activity, outcome });
    expect(count('plan', 'completed')).toBe(1);
    expect(sampleValue(parsed, 'maestro_orchestrator_activity_duration_seconds_sum', { activity: 'plan', outcome: 'completed' })).toBe(2);
    expect(count('review', 'failed')).toBe(1);
    expect(count('code', 'deferred')).toBe(1);
    expect(count('plan', 'error')).toBe(1);
    expect(count('plan', 'handed_back')).toBe(1);
    // A name the orchestrator does not perform is not a label value of its own.
    expect(count('unknown', 'failed')).toBe(1);
  });

  it('leaves other consumers as they are', async () => {
    const { registry, clock, metrics } = setUp();
    const { bus, consumers } = handBus();
    const handler = async () => undefined;
    await instrumentActivityRequests(bus, metrics, clock).consume({ stream: 'S', durable: Consumers.orchestratorSubtaskResults, filterSubject: 'x', schema: {} as never, handler });
    expect(consumers.get(Consumers.orchestratorSubtaskResults)?.handler).toBe(handler);
    expect(sampleValue(await scrape(registry), 'maestro_orchestrator_activity_duration_seconds_count')).toBe(0);
  });
});

describe('trackUnfinishedTasks', () => {
  it('reports pending and running tasks as the store counts them on each scrape', async () => {
    const { registry, metrics } = setUp();
    let counts = { pending: 3, running: 1 };
    trackUnfinishedTasks(registry, { countUnfinished: async () => counts }, metrics);
    expect(sampleValue(await scrape(registry), 'maestro_tasks_unfinished', { status: 'pending' })).toBe(3);
    counts = { pending: 0, running: 2 };
    const parsed = await scrape(registry);
    expect(sampleValue(parsed, 'maestro_tasks_unfinished', { status: 'pending' })).toBe(0);
    expect(sampleValue(parsed, 'maestro_tasks_unfinished', { status: 'running' })).toBe(2);
  });

  it('has no sample when the counts do not come in time, and counts the failure', async () => {
    const { registry, clock, metrics } = setUp();
    trackUnfinishedTasks(registry, { countUnfinished: () => new Promise(() => undefined) }, metrics, { clock, timeoutMs: 1_000 });
    const stuckScrape = async () => {
      const scraping = scrape(registry);
      await new Promise((r) => setImmediate(r));
      clock.advance(1_000);
      return scraping;
    };
    expect((await stuckScrape()).samples.filter((s) => s.name === 'maestro_tasks_unfinished')).toEqual([]);
    // The failure counter is read in parallel with the gauge: it shows from the next scrape.
    expect(sampleValue(await stuckScrape(), 'maestro_task_count_failures_total')).toBe(1);
  });
});
