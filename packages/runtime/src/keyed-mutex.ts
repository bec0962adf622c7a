/**
 * One queue per key: work for the same key runs one at a time, in the order it was asked for;
 * work for different keys runs freely; a failure does not stop the work after it. The executor
 * keys it by repository, so git's administrative commands on one repository (worktree
 * add/remove/prune, ref transactions) never race inside this process (across processes git's
 * own lock files and the `git-index:<repo>` concern take over); the workflow-engine keys it by
 * run, so one run's notes are recorded one at a time.
 */

/** Serializes async work per key. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` once every earlier `run` of the same key has settled; resolves with its outcome. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    // The queue must survive a failure: the next holder of the key runs anyway.
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Keys with work queued or running (for tests and diagnostics). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
