/**
 * What the benchmark drives: a lock on one named resource, through CodeMaestro's lock-manager
 * or a peer library, so every system runs the same loops with the same clients and hold.
 */

/** Releases a held lock. */
export type ReleaseLock = () => Promise<void>;

/** One client of a lock system (its own connection), locking one resource. */
export interface LockClient {
  /**
   * Waits until the lock is held, however long that takes; resolves to its release. Counts a
   * peer's give-up (timeout, retries exhausted) in `giveUps` and asks again, so the measured wait
   * runs from the first ask to the grant.
   */
  acquire(resource: string): Promise<ReleaseLock>;
  /** How many times this client's library gave up and was asked again. */
  readonly giveUps: number;
  close(): Promise<void>;
}

/** A lock system under one configuration. */
export interface LockTarget {
  /** e.g. "redis-semaphore Mutex (tuned)" */
  readonly name: string;
  /** The settings that differ from the library's defaults, printed with the results. */
  readonly settings: string;
  /** A new client with a connection of its own. */
  connect(clientIndex: number): Promise<LockClient>;
}
