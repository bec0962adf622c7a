/**
 * In-process notifications that a run changed, for WatchRun. The engine notifies after each
 * commit (with the run as committed); `main.ts` also feeds in the run events other engine
 * replicas publish on NATS (without a run: watchers re-read it from the database).
 */

/** A listener gets the run when the notifier has it, else undefined (re-read it). */
export type RunChangeListener<R> = (run: R | undefined) => void;

/** Per-run fan-out of change notifications. */
export class RunChanges<R> {
  private readonly listeners = new Map<string, Set<RunChangeListener<R>>>();

  /** Calls `listener` on every change of `runId` until the returned function is called. */
  subscribe(runId: string, listener: RunChangeListener<R>): () => void {
    let set = this.listeners.get(runId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
  }

  /** Tells every listener of `runId` that it changed. */
  notify(runId: string, run?: R): void {
    for (const listener of [...(this.listeners.get(runId) ?? [])]) listener(run);
  }

  /** True while someone listens to `runId` (so the notifier can skip building the run). */
  isWatched(runId: string): boolean {
    return this.listeners.has(runId);
  }

  /** Runs being watched right now. */
  get watched(): number {
    return this.listeners.size;
  }
}
