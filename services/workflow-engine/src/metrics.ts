/**
 * The workflow-engine's Prometheus metrics, as an {@link EngineObserver} (the engine knows
 * nothing of Prometheus) plus one gauge read on scrape:
 *
 * - `maestro_workflow_runs_started_total{definition}` and
 *   `maestro_workflow_runs_finished_total{definition,status}`: counters, not a count of the
 *   table by status on every scrape. Finished runs pile up for ever, so counting them is a
 *   query that grows with the table; counters cost nothing and `rate()` says what matters
 *   (runs per minute, share that failed). Each replica counts the runs it moved; sum them.
 * - `maestro_workflow_runs_running`: runs in flight now, read on scrape with a bounded query
 *   (at most {@link RUNNING_COUNT_CAP}, the gauge then reads that cap): a level no counter
 *   gives, since a run started on one replica may finish on another.
 * - `maestro_workflow_transition_seconds{definition,state,trigger}`: how long one transition
 *   took (read, decide, commit, its effects published), by definition, the state it left and
 *   what moved it (`result`, `event`, `timeout`).
 * - `maestro_workflow_activity_requests_total{activity}`: activity requests that went out.
 * - `maestro_workflow_activity_results_total{outcome}`: results `applied` or `ignored`.
 * - `maestro_workflow_effect_publish_seconds`, `maestro_workflow_effect_retries_total`,
 *   `maestro_workflow_effects_dropped_total{reason}`, `maestro_workflow_effects_pending`: the
 *   effect queue's acked publishes, transient failures, drops (`permanent`, `stopping`) and
 *   backlog.
 */
import { defineCounter, defineGauge, defineHistogram, processRegistry, type Logger, type Registry } from '@maestro/runtime';
import type { EngineObserver } from './engine-observer.js';
import type { RunStore } from './store/run-store.js';

/** The most running runs the scrape counts; beyond it the gauge reads this. */
export const RUNNING_COUNT_CAP = 100_000;

/** Buckets for steps and publishes, which take milliseconds: finer at the low end than DurationBuckets. */
export const StepBuckets: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the scrape-time gauges read. */
export interface WorkflowMetricsSources {
  store: Pick<RunStore, 'countRunning'>;
  /** Effects waiting to be published in this process. */
  pendingEffects(): number;
  logger: Logger;
}

/** Defines the engine's metrics on `registry` and returns the observer that feeds them. */
export function createWorkflowEngineMetrics(sources: WorkflowMetricsSources, registry: Registry = processRegistry()): EngineObserver {
  const started = defineCounter(registry, {
    name: 'maestro_workflow_runs_started_total',
    help: 'Runs started by this replica, by definition.',
    labelNames: ['definition'],
  });
  const finished = defineCounter(registry, {
    name: 'maestro_workflow_runs_finished_total',
    help: 'Runs that reached a final state in a step of this replica, by definition and status (done, failed, cancelled).',
    labelNames: ['definition', 'status'],
  });
  defineGauge(registry, {
    name: 'maestro_workflow_runs_running',
    help: `Runs in flight (status running), read from the database on scrape; at most ${RUNNING_COUNT_CAP}.`,
    async collect() {
      try {
        this.set(await sources.store.countRunning(RUNNING_COUNT_CAP));
      } catch (err) {
        // A scrape must not fail because the database is away; the gauge keeps its last value.
        sources.logger.warn('could not count running runs for metrics', { err });
      }
    },
  });
  const transitions = defineHistogram(registry, {
    name: 'maestro_workflow_transition_seconds',
    help: 'Time one transition took (run read, decided, committed, effects published), by definition, the state it left and trigger (result, event, timeout).',
    labelNames: ['definition', 'state', 'trigger'],
    buckets: StepBuckets,
  });
  const requests = defineCounter(registry, {
    name: 'maestro_workflow_activity_requests_total',
    help: 'Activity requests published (acked by the work stream), by activity.',
    labelNames: ['activity'],
  });
  const results = defineCounter(registry, {
    name: 'maestro_workflow_activity_results_total',
    help: 'Activity results handled, by outcome (applied, ignored: stale, finished or unknown run).',
    labelNames: ['outcome'],
  });
  const publishes = defineHistogram(registry, {
    name: 'maestro_workflow_effect_publish_seconds',
    help: 'Time of one successful effect publish (activity request or run event), until the stream acked it.',
    buckets: StepBuckets,
  });
  const retries = defineCounter(registry, {
    name: 'maestro_workflow_effect_retries_total',
    help: 'Effect publishes that failed transiently and will be retried.',
  });
  const dropped = defineCounter(registry, {
    name: 'maestro_workflow_effects_dropped_total',
    help: 'Effects dropped, by reason (permanent: can never be published; stopping: the engine stopped first).',
    labelNames: ['reason'],
  });
  defineGauge(registry, {
    name: 'maestro_workflow_effects_pending',
    help: 'Effects waiting to be published by this replica (in flight or being retried).',
    collect() {
      this.set(sources.pendingEffects());
    },
  });
  return {
    runStarted: (definition) => started.inc({ definition }),
    runFinished: (definition, status) => finished.inc({ definition, status }),
    transitioned: (definition, state, trigger, seconds) => transitions.observe({ definition, state, trigger }, seconds),
    activityRequested: (activity) => requests.inc({ activity }),
    resultHandled: (outcome) => results.inc({ outcome }),
    published: (seconds) => publishes.observe(seconds),
    retried: () => retries.inc(),
    dropped: (reason) => dropped.inc({ reason }),
  };
}
