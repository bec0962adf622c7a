/**
 * Fans the gateway's one NATS subscription on `maestro.events.>` out to the SSE streams that
 * want it, by the payload's `runId`. One subscription for the whole process (instead of one per
 * client) keeps NATS interest constant however many people watch, and makes `listen` synchronous:
 * a listener is live the moment it is added, which is what lets a stream register before it
 * reads a run's history without missing anything in between.
 */
import type { Logger } from '@maestro/runtime';
import type { BusEvent, RunEventListener, RunEvents } from '../../ports.js';

/** Dispatches bus events to the listeners of their run. */
export class RunEventHub implements RunEvents {
  private readonly listeners = new Map<string, Set<RunEventListener>>();

  constructor(private readonly logger: Logger) {}

  /** Adds a listener for `runId`'s events; the returned function removes it. */
  listen(runId: string, listener: RunEventListener): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(runId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(runId);
    };
  }

  /** Number of runs somebody is listening to. */
  get watchedRuns(): number {
    return this.listeners.size;
  }

  /** Hands one event to the listeners of its `runId`; events without one are nobody's. */
  dispatch(event: BusEvent): void {
    const runId = event.payload.runId;
    if (typeof runId !== 'string') return;
    const set = this.listeners.get(runId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (err) {
        // One broken stream must not starve the others.
        this.logger.error('run event listener failed', {
          runId,
          subject: event.subject,
          err: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
