/**
 * Runs async jobs one at a time per key, in the order they were given, and jobs of different
 * keys side by side. A failed job does not stop the jobs after it. A key is forgotten once its
 * last job has ended, so idle keys cost nothing.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `job` after every job given earlier for `key` has ended; settles as `job` does. */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(job, job);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a job queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
