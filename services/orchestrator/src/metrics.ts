/**
 * The orchestrator's Prometheus metrics, recorded by decorating the ports `main.ts` hands to
 * `createOrchestrator` (task store, agent-step store, bus), so no use case knows about them:
 *
 * - `maestro_tasks_unfinished{status}` (gauge; `pending`, `running`): read from PostgreSQL on
 *   each scrape with a bounded query (see `store/postgres-task-status-counts.ts`). The database
 *   is the truth every replica shares, so the value is right after a restart and the same on
 *   every replica: aggregate with `max`, never `sum`. A scrape that gets no answer in time has no
 *   sample and counts in `maestro_task_count_failures_total`.
 * - `maestro_task_status_changes_total{status}`: tasks that entered a status (`pending` at
 *   submission), counted by the replica whose transaction committed the change, after the
 *   commit, so a rolled-back change never counts and each change counts once across replicas:
 *   aggregate with `sum(rate(…))`; a restart resets a counter, which `rate` handles. Finished
 *   statuses are only counted, never queried: their rows grow without bound.
 * - `maestro_escalations_total{outcome}`: escalations decided, by outcome (`hint`, `replan`,
 *   `takeover`, `abandon`, `fail`: over the limits or no usable decision; `ignored`: decided
 *   too late to apply), counted when the decision commits, so a redelivery never counts twice.
 * - `maestro_subtask_attempt_duration_seconds{outcome}`: one subtask attempt, from its dispatch
 *   (the stream stored its work) to its end committed: `succeeded`, `failed`, `replaced`, or
 *   `retried` (an escalation sent it back with a hint or to the strategic model).
 * - `maestro_agent_steps_recorded_total{kind, outcome}`: agent steps Orion recorded, by kind and
 *   what recording did (`recorded`, `duplicate`, `unknown-task`).
 * - `maestro_orchestrator_activity_duration_seconds{activity, outcome}`: one handling of an
 *   activity request (`plan`, `review`, `intake`, `preflight`, `code`) by this replica, by
 *   outcome: `completed`, `failed` (a failed result was published), `deferred` (`code`: the result
 *   follows the subtasks), `error` (thrown: redelivered, or dead-lettered after the last
 *   delivery), `handed_back` (shutdown).
 */
import { HandBackError, type WorkConsumerOptions } from '@maestro/bus';
import { Consumers, Subjects } from '@maestro/contracts';
import { defineCounter, defineGauge, defineHistogram, processRegistry, systemClock } from '@maestro/runtime';
import type { Clock, Counter, Histogram, Logger, Registry } from '@maestro/runtime';
import { orchestratorActivities } from './activities/activity-registry.js';
import type { EscalationRecord, EscalationStatus } from './domain/escalations.js';
import type { SubtaskRecord, SubtaskStatus } from './domain/task.js';
import type { OrchestratorDeps } from './orchestrator.js';
import type { AgentStepStore } from './store/agent-step-store.js';
import type { LockedTask, TaskStore } from './store/task-store.js';
import { UnfinishedTaskStatuses, type TaskStatusCounts } from './store/task-status-counts.js';

/** How one handling of an activity request ended, as the `outcome` label. */
export const ActivityOutcomes = {
  completed: 'completed',
  failed: 'failed',
  deferred: 'deferred',
  error: 'error',
  handedBack: 'handed_back',
} as const;
export type ActivityOutcome = (typeof ActivityOutcomes)[keyof typeof ActivityOutcomes];

/** Bucket bounds (seconds) of subtask attempts: agents work for minutes, sometimes an hour or more. */
export const SubtaskAttemptBuckets: readonly number[] = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/** The orchestrator's metrics. */
export interface OrchestratorMetrics {
  readonly taskStatusChanges: Counter<'status'>;
  readonly taskCountFailures: Counter;
  readonly escalations: Counter<'outcome'>;
  readonly subtaskAttempts: Histogram<'outcome'>;
  readonly stepsRecorded: Counter<'kind' | 'outcome'>;
  readonly activities: Histogram<'activity' | 'outcome'>;
}

/** Defines the orchestrator's metrics on `registry`. */
export function createOrchestratorMetrics(registry: Registry = processRegistry()): OrchestratorMetrics {
  return {
    taskStatusChanges: defineCounter(registry, {
      name: 'maestro_task_status_changes_total',
      help: 'Tasks that entered a status (pending at submission), counted once, by the replica that committed the change.',
      labelNames: ['status'],
    }),
    taskCountFailures: defineCounter(registry, {
      name: 'maestro_task_count_failures_total',
      help: 'Scrapes that got no unfinished task counts from the database in time (maestro_tasks_unfinished has no sample then).',
    }),
    escalations: defineCounter(registry, {
      name: 'maestro_escalations_total',
      help: 'Escalations decided, by outcome (hint, replan, takeover, abandon, fail, ignored), counted when the decision commits.',
      labelNames: ['outcome'],
    }),
    subtaskAttempts: defineHistogram(registry, {
      name: 'maestro_subtask_attempt_duration_seconds',
      help: 'Time from a subtask attempt’s dispatch to its end, by outcome (succeeded, failed, replaced, retried).',
      labelNames: ['outcome'],
      buckets: SubtaskAttemptBuckets,
    }),
    stepsRecorded: defineCounter(registry, {
      name: 'maestro_agent_steps_recorded_total',
      help: 'Agent steps Orion recorded, by kind and outcome (recorded, duplicate, unknown-task).',
      labelNames: ['kind', 'outcome'],
    }),
    activities: defineHistogram(registry, {
      name: 'maestro_orchestrator_activity_duration_seconds',
      help: 'Time one handling of an activity request took, by activity and outcome (completed, failed, deferred, error, handed_back).',
      labelNames: ['activity', 'outcome'],
    }),
  };
}

/** Options of {@link trackUnfinishedTasks}. */
export interface UnfinishedTasksOptions {
  /** Longest wait for the counts during a scrape. @default 2500 */
  timeoutMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** Where a failed read is logged. @default not logged (only counted) */
  logger?: Logger;
}

async function withinMs<T>(work: Promise<T>, ms: number, clock: Clock): Promise<T> {
  const controller = new AbortController();
  const timeout = clock.sleep(ms, controller.signal).then(() => Promise.reject(new Error(`no task counts within ${ms} ms`)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    controller.abort();
    timeout.catch(() => undefined);
  }
}

/**
 * Reports `maestro_tasks_unfinished{status}` on every scrape of `registry`, read from `counts`.
 * Once per registry: a second call on the same registry keeps the first source.
 */
export function trackUnfinishedTasks(registry: Registry, counts: TaskStatusCounts, metrics: OrchestratorMetrics, options: UnfinishedTasksOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 2_500;
  const clock = options.clock ?? systemClock;
  defineGauge<'status'>(registry, {
    name: 'maestro_tasks_unfinished',
    help: 'Tasks not finished yet, by status (pending, running), read from the database on scrape; the same on every replica (aggregate with max).',
    labelNames: ['status'],
    async collect() {
      this.reset();
      try {
        const read = await withinMs(counts.countUnfinished(), timeoutMs, clock);
        for (const status of UnfinishedTaskStatuses) this.set({ status }, read[status]);
      } catch (err) {
        metrics.taskCountFailures.inc();
        options.logger?.warn('unfinished task counts not read for this scrape', { err });
      }
    },
  });
}

/** Where a subtask attempt ended, as the `outcome` label; undefined when no dispatched attempt ended. */
function attemptOutcome(before: SubtaskRecord, status: SubtaskStatus): string | undefined {
  if (before.status !== 'running' || status === 'running') return undefined;
  if (before.dispatchedAt === null || before.dispatchedAttempt !== before.attempt) return undefined;
  return status === 'pending' ? 'retried' : status;
}

/** Where an escalation's decision landed, as the `outcome` label; undefined while it is undecided. */
function escalationOutcome(status: EscalationStatus, decision: EscalationRecord['decision'] | undefined): string | undefined {
  if (status === 'pending') return undefined;
  if (status === 'ignored') return 'ignored';
  return decision?.kind ?? status;
}

/**
 * `locked` with its status changes, ended subtask attempts and decided escalations noted in
 * `committed`, to be recorded once the transaction commits. Remembers the subtasks and
 * escalations the caller read (reading them itself only when it read none), to know each
 * change's before.
 */
function observeLockedTask(locked: LockedTask, committed: Array<() => void>, metrics: OrchestratorMetrics, clock: Pick<Clock, 'now'>): LockedTask {
  let taskStatus = locked.task.status;
  let subtasks: Map<string, SubtaskRecord> | undefined;
  let escalations: Map<string, EscalationStatus> | undefined;
  const rememberSubtasks = (list: SubtaskRecord[]): SubtaskRecord[] => {
    subtasks = new Map(list.map((s) => [s.id, { ...s }]));
    return list;
  };
  const rememberEscalations = (list: EscalationRecord[]): EscalationRecord[] => {
    escalations = new Map(list.map((e) => [e.escalationId, e.status]));
    return list;
  };
  const noteEscalation = (before: EscalationStatus | undefined, after: EscalationStatus, decision: EscalationRecord['decision'] | undefined): void => {
    if (before !== undefined && before !== 'pending') return;
    const outcome = escalationOutcome(after, decision);
    if (outcome !== undefined) committed.push(() => metrics.escalations.inc({ outcome }));
  };

  const view = Object.create(locked) as LockedTask;
  view.update = async (patch) => {
    const task = await locked.update(patch);
    if (task.status !== taskStatus) {
      const entered = task.status;
      committed.push(() => metrics.taskStatusChanges.inc({ status: entered }));
      taskStatus = entered;
    }
    return task;
  };
  view.subtasks = async () => rememberSubtasks(await locked.subtasks());
  view.replaceSubtasks = async (planned) => rememberSubtasks(await locked.replaceSubtasks(planned));
  view.appendSubtasks = async (planned, start) => rememberSubtasks(await locked.appendSubtasks(planned, start));
  view.markDispatched = async (dispatched, at) => {
    await locked.markDispatched(dispatched, at);
    subtasks = undefined;
  };
  view.updateSubtask = async (subtaskId, patch) => {
    if (patch.status === undefined) return locked.updateSubtask(subtaskId, patch);
    if (subtasks === undefined) rememberSubtasks(await locked.subtasks());
    const before = subtasks?.get(subtaskId);
    await locked.updateSubtask(subtaskId, patch);
    if (before === undefined) return;
    const outcome = attemptOutcome(before, patch.status);
    if (outcome !== undefined && before.dispatchedAt !== null) {
      const seconds = Math.max(0, clock.now() - before.dispatchedAt.getTime()) / 1000;
      committed.push(() => metrics.subtaskAttempts.observe({ outcome }, seconds));
    }
    subtasks?.set(subtaskId, { ...before, status: patch.status, attempt: patch.attempt ?? before.attempt });
  };
  view.escalations = async () => rememberEscalations(await locked.escalations());
  view.insertEscalation = async (escalation) => {
    const record = await locked.insertEscalation(escalation);
    noteEscalation(undefined, record.status, record.decision);
    escalations?.set(record.escalationId, record.status);
    return record;
  };
  view.updateEscalation = async (escalationId, patch) => {
    if (patch.status === undefined) return locked.updateEscalation(escalationId, patch);
    if (escalations === undefined) rememberEscalations(await locked.escalations());
    const before = escalations?.get(escalationId);
    const record = await locked.updateEscalation(escalationId, patch);
    noteEscalation(before, record.status, record.decision);
    escalations?.set(escalationId, record.status);
    return record;
  };
  return view;
}

/**
 * `store` with task status changes, subtask attempts and escalation decisions recorded in
 * `metrics` once their transaction committed; every other method is the original's.
 */
export function instrumentTaskStore(store: TaskStore, metrics: OrchestratorMetrics, clock: Pick<Clock, 'now'> = systemClock): TaskStore {
  const instrumented = Object.create(store) as TaskStore;
  instrumented.insertTask = async (task) => {
    const inserted = await store.insertTask(task);
    if (inserted.created) metrics.taskStatusChanges.inc({ status: inserted.task.status });
    return inserted;
  };
  instrumented.withLockedTask = async <T>(taskId: string, fn: (locked: LockedTask) => Promise<T>): Promise<T | undefined> => {
    const committed: Array<() => void> = [];
    const result = await store.withLockedTask(taskId, (locked) => fn(observeLockedTask(locked, committed, metrics, clock)));
    // Reached only when the transaction committed: a throw rolled back what was noted.
    for (const record of committed) record();
    return result;
  };
  return instrumented;
}

/** `steps` with every recording counted by kind and outcome; every other method is the original's. */
export function instrumentAgentStepStore(steps: AgentStepStore, metrics: OrchestratorMetrics): AgentStepStore {
  const instrumented = Object.create(steps) as AgentStepStore;
  instrumented.record = async (step) => {
    const outcome = await steps.record(step);
    metrics.stepsRecorded.inc({ kind: step.kind, outcome });
    return outcome;
  };
  return instrumented;
}

type OrchestratorBusPort = OrchestratorDeps['bus'];

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * `bus` with each handling of an activity request (the `orchestrator-work` consumer) timed by
 * activity and outcome. The outcome of a handling that returned is told by the result it
 * published (`maestro.results.activity` with its workId): none means deferred.
 */
export function instrumentActivityRequests(bus: OrchestratorBusPort, metrics: OrchestratorMetrics, clock: Pick<Clock, 'now'> = systemClock): OrchestratorBusPort {
  // workId of each request being handled → whether the result it published was ok (undefined: none yet).
  const handling = new Map<string, boolean | undefined>();
  const timed = <T>(handler: WorkConsumerOptions<T>['handler']): WorkConsumerOptions<T>['handler'] => async (payload, delivery) => {
    const name = field(payload, 'activity');
    const activity = typeof name === 'string' && Object.hasOwn(orchestratorActivities, name) ? name : 'unknown';
    const workId = String(field(payload, 'workId') ?? '');
    const started = clock.now();
    const record = (outcome: ActivityOutcome): void => metrics.activities.observe({ activity, outcome }, (clock.now() - started) / 1000);
    handling.set(workId, undefined);
    try {
      await handler(payload, delivery);
      const ok = handling.get(workId);
      record(ok === undefined ? ActivityOutcomes.deferred : ok ? ActivityOutcomes.completed : ActivityOutcomes.failed);
    } catch (err) {
      record(err instanceof HandBackError ? ActivityOutcomes.handedBack : ActivityOutcomes.error);
      throw err;
    } finally {
      handling.delete(workId);
    }
  };
  return {
    consume: <T>(options: WorkConsumerOptions<T>) =>
      bus.consume<T>(options.durable === Consumers.orchestratorWork ? { ...options, handler: timed(options.handler) } : options),
    publish: async (subject, payload, options) => {
      await bus.publish(subject, payload, options);
      const workId = field(payload, 'workId');
      if (subject === Subjects.activityResult && typeof workId === 'string' && handling.has(workId)) handling.set(workId, field(payload, 'ok') === true);
    },
    publishEvent: (subject, payload) => bus.publishEvent(subject, payload),
  };
}

/** `deps` with the ports that record metrics (task store, agent-step store, bus) instrumented. */
export function instrumentOrchestratorDeps<D extends Pick<OrchestratorDeps, 'store' | 'steps' | 'bus' | 'clock'>>(deps: D, metrics: OrchestratorMetrics): D {
  return {
    ...deps,
    store: instrumentTaskStore(deps.store, metrics, deps.clock),
    steps: instrumentAgentStepStore(deps.steps, metrics),
    bus: instrumentActivityRequests(deps.bus, metrics, deps.clock),
  };
}
