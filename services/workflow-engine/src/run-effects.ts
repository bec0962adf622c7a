/**
 * The effects of a committed step, as publishes for the {@link EffectQueue}: `run.started`,
 * `run.transitioned`, `run.finished` and the request for the activity the run now waits for
 * (with its `activity.requested`). Each is published in the run's own trace (`run-trace.ts`),
 * with a deterministic message id, so publishing one twice is harmless.
 */
import { Subjects, type ActivityRequest } from '@maestro/contracts';
import type { Clock, Logger } from '@maestro/runtime';
import { isFinished, pendingActivityOf, toRunEvent, type Registries, type RunnableDefinition } from './domain/index.js';
import type { Effect, EffectQueue } from './effect-queue.js';
import type { EngineObserver } from './engine-observer.js';
import type { RunEventsPublisher } from './run-events-publisher.js';
import { inRunTrace } from './run-trace.js';
import type { RunRecord, RunStore, TransitionRecord } from './store/run-store.js';

/** What {@link RunEffects} needs. */
export interface RunEffectsOptions {
  publisher: RunEventsPublisher;
  store: Pick<RunStore, 'markFinishedPublished'>;
  queue: EffectQueue;
  registries: Registries;
  clock: Clock;
  logger: Logger;
  /** Told about each activity request that went out. */
  observer: Pick<EngineObserver, 'activityRequested'>;
  /**
   * Fails the attempt whose request can never be published (a payload its schema rejects, one
   * over NATS max_payload), so the run ends instead of waiting for work nobody was sent.
   */
  onUnpublishableRequest(request: ActivityRequest, err: unknown): Promise<void>;
}

/** Builds and queues the effects of runs. */
export class RunEffects {
  constructor(private readonly options: RunEffectsOptions) {}

  /**
   * Queues a run's effects behind its earlier ones (other runs' are not waited for); resolves
   * once each was tried once (see {@link EffectQueue.enqueue}).
   */
  publish(runId: string, effects: Effect[]): Promise<void> {
    return effects.length === 0 ? Promise.resolve() : this.options.queue.enqueue(runId, effects);
  }

  /** Stops retrying; what is still queued is dropped (see {@link EffectQueue.stop}). */
  stop(): Promise<void> {
    return this.options.queue.stop();
  }

  /** A new run: `run.started`, `run.finished` if it started finished, its first activity request. */
  started(run: RunRecord, runnable: RunnableDefinition): Effect[] {
    const event = toRunEvent(run, run.createdAt);
    return [
      this.inTrace(run, 'run.started', { description: `run.started ${run.id}`, publish: () => this.options.publisher.publishEvent(Subjects.runStarted, event, `${run.id}:started`) }),
      ...this.finished(run, undefined),
      ...this.pendingActivity(run, runnable),
    ];
  }

  /** A committed transition: `run.transitioned`, `run.finished` when it ended the run, the next activity request. */
  transitioned(run: RunRecord, transition: TransitionRecord, runnable: RunnableDefinition): Effect[] {
    const event = toRunEvent(run, transition.at, { fromState: transition.fromState, eventType: transition.eventType, seq: transition.seq, state: transition.toState });
    return [
      this.inTrace(run, 'run.transitioned', {
        description: `run.transitioned ${run.id}#${transition.seq}`,
        publish: () => this.options.publisher.publishEvent(Subjects.runTransitioned, event, `${run.id}:${transition.seq}`),
      }),
      ...this.finished(run, transition.seq),
      ...this.pendingActivity(run, runnable),
    ];
  }

  /**
   * A recorded note (see `domain/run-note.ts`): its `run.transitioned` (`note: true`, the state
   * unchanged) and nothing else, since the run did not move and its activity is already out.
   */
  noted(run: RunRecord, note: TransitionRecord): Effect[] {
    const event = { ...toRunEvent(run, note.at, { fromState: note.fromState, eventType: note.eventType, seq: note.seq, state: note.toState }), note: true };
    return [
      this.inTrace(run, 'run.noted', {
        description: `run.transitioned ${run.id}#${note.seq} (note)`,
        publish: () => this.options.publisher.publishEvent(Subjects.runTransitioned, event, `${run.id}:${note.seq}`),
      }),
    ];
  }

  /** The request for the current state's activity, when the run is waiting on one. */
  pendingActivity(run: RunRecord, runnable: RunnableDefinition): Effect[] {
    const pending = pendingActivityOf(run, runnable, new Date(this.options.clock.now()));
    if (pending === undefined) return [];
    const entry = this.options.registries.activities[pending.activity];
    if (entry === undefined) return [];
    const { request, requested } = pending;
    const { publisher } = this.options;
    // One effect, so a request that can never be published takes its activity.requested with
    // it; a retry after the request went out publishes only the event.
    let requestOut = false;
    return [
      this.inTrace(run, 'activity.request', {
        description: `activity request ${request.workId}`,
        publish: async () => {
          if (!requestOut) {
            await publisher.publishActivityRequest(entry.queue, request);
            requestOut = true;
            this.options.observer.activityRequested(request.activity);
          }
          await publisher.publishEvent(Subjects.activityRequested, requested, `${request.workId}:requested`);
        },
        onPermanentFailure: async (err) => {
          // Only the event failed: the work is out and its result will come.
          if (requestOut) return;
          await this.options.onUnpublishableRequest(request, err);
        },
      }),
    ];
  }

  /** `run.finished`, with the seq of the transition that finished the run (none when it started finished). */
  finished(run: RunRecord, seq: number | undefined): Effect[] {
    if (!isFinished(run.status)) return [];
    const event = toRunEvent(run, run.updatedAt, seq === undefined ? {} : { seq });
    const { publisher, store, logger } = this.options;
    return [
      this.inTrace(run, 'run.finished', {
        description: `run.finished ${run.id}`,
        publish: async () => {
          await publisher.publishEvent(Subjects.runFinished, event, `${run.id}:finished`);
          try {
            await store.markFinishedPublished(run.id);
          } catch (err) {
            // The event is out; failing the effect would only publish it again. Resume will
            // re-publish it once (harmless: same message id) since the flag stayed false.
            logger.warn('run.finished published but not recorded as published', { runId: run.id, err });
          }
        },
      }),
    ];
  }

  /** The effect, published inside a span of the run's trace. */
  private inTrace(run: RunRecord, what: string, effect: Effect): Effect {
    const publish = effect.publish.bind(effect);
    return { ...effect, publish: () => inRunTrace(run.traceParent, `workflow.publish ${what}`, { 'maestro.run_id': run.id }, publish) };
  }
}
