/**
 * What the engine tells an observer about its work: runs started and finished, transitions
 * with how long each took, activity requests published, results handled, and (through the
 * effect queue) publish latency, retries and drops. `metrics.ts` implements it with Prometheus;
 * the engine itself knows nothing of metrics.
 */
import type { RunStatus } from './domain/index.js';
import type { EffectQueueObserver } from './effect-queue.js';

/** What moved a run: an activity result, a SendEvent/CancelRun, or the timeout sweep. */
export const StepTriggers = { result: 'result', event: 'event', timeout: 'timeout' } as const;
export type StepTrigger = (typeof StepTriggers)[keyof typeof StepTriggers];

/** How an activity result ended: applied as a step, or ignored (stale, finished or unknown run). */
export const ResultOutcomes = { applied: 'applied', ignored: 'ignored' } as const;
export type ResultOutcome = (typeof ResultOutcomes)[keyof typeof ResultOutcomes];

/** Receives the engine's events; every method must be cheap and must not throw. */
export interface EngineObserver extends EffectQueueObserver {
  runStarted(definition: string): void;
  runFinished(definition: string, status: RunStatus): void;
  /**
   * A transition of a run of `definition` out of `fromState`, committed and its effects tried
   * once, `seconds` after the step began (the run read, decided, written and published).
   */
  transitioned(definition: string, fromState: string, trigger: StepTrigger, seconds: number): void;
  /** An activity request went out (published and acked by its stream). */
  activityRequested(activity: string): void;
  resultHandled(outcome: ResultOutcome): void;
}

/** An observer that ignores everything (the default). */
export const silentEngineObserver: EngineObserver = {
  runStarted: () => undefined,
  runFinished: () => undefined,
  transitioned: () => undefined,
  activityRequested: () => undefined,
  resultHandled: () => undefined,
  published: () => undefined,
  retried: () => undefined,
  dropped: () => undefined,
};
