/**
 * WatchRun: the run now, then the run after each change, until it finishes or the caller (or
 * shutdown) ends the stream. Committed steps of this process arrive as notifications carrying
 * the run; changes made elsewhere (another replica, reported through NATS run events) and a
 * periodic poll make the watcher re-read the run, so a stream never misses the end.
 */
import { isFinished } from './domain/index.js';
import { RunChanges } from './run-changes.js';
import type { RunRecord, TransitionRecord } from './store/run-store.js';

/** A run with its history, as RPCs return it. */
export interface RunView extends RunRecord {
  history: TransitionRecord[];
}

/** What {@link RunWatcher} needs. */
export interface RunWatcherOptions {
  /** Reads the run with its history; throws NOT_FOUND for an unknown run. */
  loadRun(runId: string): Promise<RunView>;
  /** The history of a run, to complete a committed run before notifying watchers. */
  getHistory(runId: string): Promise<TransitionRecord[]>;
  /** How often a watch re-reads the run without a notification. @default 5000 */
  pollMs?: number;
}

/** Streams runs to watchers and fans out change notifications. */
export class RunWatcher {
  private readonly changes = new RunChanges<RunView>();
  private readonly ended = new AbortController();
  private readonly pollMs: number;

  constructor(private readonly options: RunWatcherOptions) {
    this.pollMs = options.pollMs ?? 5000;
  }

  /** Tells watchers of `run` about a step this process committed (reads the history only when watched). */
  async committed(run: RunRecord): Promise<void> {
    if (this.changes.isWatched(run.id)) this.changes.notify(run.id, { ...run, history: await this.options.getHistory(run.id) });
  }

  /** Tells watchers a run changed elsewhere; they re-read it. */
  changedElsewhere(runId: string): void {
    this.changes.notify(runId);
  }

  /** Ends every stream (before the gRPC server drains, so it need not wait for them). */
  endAll(): void {
    this.ended.abort();
  }

  /** Runs being watched right now. */
  get watched(): number {
    return this.changes.watched;
  }

  /** The run now, then after each change, until it finishes or `signal` aborts. */
  async *watch(runId: string, signal: AbortSignal): AsyncGenerator<RunView> {
    let wake: () => void = () => undefined;
    const inbox: Array<RunView | undefined> = [];
    const unsubscribe = this.changes.subscribe(runId, (run) => {
      inbox.push(run);
      wake();
    });
    const onAbort = () => wake();
    const shutdown = this.ended.signal;
    signal.addEventListener('abort', onAbort);
    shutdown.addEventListener('abort', onAbort);
    const ended = () => signal.aborted || shutdown.aborted;
    try {
      // Subscribed before the first read, so no change between the two is missed.
      let last = await this.options.loadRun(runId);
      yield last;
      while (!isFinished(last.status) && !ended()) {
        if (inbox.length === 0) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              resolve();
            };
            // The poll covers changes no notification reports (a replica without NATS events).
            const timer = setTimeout(done, this.pollMs);
            wake = done;
          });
          if (ended()) break;
          if (inbox.length === 0) inbox.push(undefined); // poll: re-read
        }
        const next = inbox.shift();
        // A committed view that is exactly the next transition is sent as it was; an older view
        // (notifications can overtake each other) is dropped; anything else (a remote
        // notification, a poll, a gap) is re-read, so the stream never goes backwards.
        let candidate: RunView;
        if (next !== undefined && next.history.length === last.history.length + 1) candidate = next;
        else if (next !== undefined && next.updatedAt.getTime() <= last.updatedAt.getTime()) continue;
        else candidate = await this.options.loadRun(runId);
        const moved = candidate.history.length > last.history.length || candidate.updatedAt.getTime() > last.updatedAt.getTime();
        if (!moved) continue;
        last = candidate;
        yield last;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      shutdown.removeEventListener('abort', onAbort);
    }
  }
}
