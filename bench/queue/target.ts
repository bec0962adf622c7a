/**
 * What the benchmark drives: a queue system with worker processes that do no-op work. Both
 * CodeMaestro (executor processes, probe work) and BullMQ (worker processes, an empty
 * processor) implement it, so the phases in `run.ts` treat them the same way.
 */

/** A completion seen by the benchmark: which item, and when its worker started it (epoch ms). */
export interface Completion {
  id: string;
  startedAt: number;
}

/** A queue system under test. */
export interface QueueTarget {
  /** Name in the table. */
  readonly system: string;
  /** Starts `workers` worker processes and resolves once every one of them is taking work. */
  start(workers: number): Promise<void>;
  /** Enqueues one no-op item carrying `sentAt`; resolves once the broker has stored it. */
  enqueue(id: string, sentAt: number): Promise<void>;
  /** Registers the listener for completions (one per target; the last registration wins). */
  onCompleted(listener: (completion: Completion) => void): void;
  /** Stops the workers (SIGTERM, then SIGKILL after a grace period) and deletes the queue's data. */
  stop(): Promise<void>;
}
