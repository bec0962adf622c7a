/**
 * Fans the gateway's one NATS subscription on `maestro.events.>` out to the SSE streams that
 * want it: by the payload's `runId` (a run's stream), every lifecycle event (run started,
 * transitioned, finished; task updated) to the global `/v1/events` streams, and every lock
 * event to the run streams, which keep those of their own run's subtasks (lock events carry no
 * run id, only the lease owner). One subscription for the whole process (instead of one per
 * client) keeps NATS interest constant however many people watch, and makes `listen` synchronous:
 * a listener is live the moment it is added, which is what lets a stream register before it
 * reads a run's history without missing anything in between.
 */
import { Subjects } from '@maestro/contracts';
import type { Logger } from '@maestro/runtime';
import type { BusEvent, LifecycleEvents, LockEvents, RunEventListener, RunEvents } from '../../ports.js';

/** The subjects of the global stream: runs' and tasks' lifecycles, not agent steps or locks. */
export const lifecycleSubjects: ReadonlySet<string> = new Set([
  Subjects.runStarted,
  Subjects.runTransitioned,
  Subjects.runFinished,
  Subjects.taskUpdated,
]);

/** The lock-manager's subjects: leases granted, released, expired, and requests queued. */
export const lockSubjects: ReadonlySet<string> = new Set([
  Subjects.lockAcquired,
  Subjects.lockReleased,
  Subjects.lockExpired,
  Subjects.lockWaiting,
]);

/** Dispatches bus events to the listeners of their run. */
export class RunEventHub implements RunEvents, LifecycleEvents, LockEvents {
  private readonly listeners = new Map<string, Set<RunEventListener>>();
  private readonly lifecycleListeners = new Set<RunEventListener>();
  private readonly lockListeners = new Set<RunEventListener>();

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

  /** Adds a listener for every lifecycle event ({@link lifecycleSubjects}); the returned function removes it. */
  listenAll(listener: RunEventListener): () => void {
    this.lifecycleListeners.add(listener);
    return () => {
      this.lifecycleListeners.delete(listener);
    };
  }

  /** Adds a listener for every lock event ({@link lockSubjects}); the returned function removes it. */
  listenLocks(listener: RunEventListener): () => void {
    this.lockListeners.add(listener);
    return () => {
      this.lockListeners.delete(listener);
    };
  }

  /** Number of listeners of lock events (open run streams). */
  get lockListenerCount(): number {
    return this.lockListeners.size;
  }

  /** Number of listeners of the global lifecycle stream. */
  get lifecycleListenerCount(): number {
    return this.lifecycleListeners.size;
  }

  /** Number of runs somebody is listening to. */
  get watchedRuns(): number {
    return this.listeners.size;
  }

  /**
   * Hands one event to the listeners of its `runId` (events without one are no run's) and, for a
   * lifecycle subject, to every global listener; a lock event to every lock listener.
   */
  dispatch(event: BusEvent): void {
    if (lifecycleSubjects.has(event.subject)) this.deliver(this.lifecycleListeners, event);
    if (lockSubjects.has(event.subject)) this.deliver(this.lockListeners, event);
    const runId = event.payload.runId;
    if (typeof runId !== 'string') return;
    const set = this.listeners.get(runId);
    if (set) this.deliver(set, event);
  }

  private deliver(listeners: ReadonlySet<RunEventListener>, event: BusEvent): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        // One broken stream must not starve the others.
        this.logger.error('event listener failed', { runId: event.payload.runId, subject: event.subject, err });
      }
    }
  }
}
