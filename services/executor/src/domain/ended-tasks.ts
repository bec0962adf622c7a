/**
 * The tasks this executor has heard reach a final status (`task.updated` events), so queued
 * work of a cancelled or failed task is not started and running work of it is stopped: once a
 * task has ended, nobody waits for its subtasks, and an agent still editing and committing in
 * the user's repository would only do harm.
 */
import { systemClock, type Clock } from '@maestro/runtime';

/** The task statuses after which a task never runs again. */
export const FINAL_TASK_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;

/** One of {@link FINAL_TASK_STATUSES}. */
export type FinalTaskStatus = (typeof FINAL_TASK_STATUSES)[number];

/** Whether a `task.updated` status is final; other statuses (running, planning …) are ignored. */
export function isFinalTaskStatus(status: string): status is FinalTaskStatus {
  return (FINAL_TASK_STATUSES as readonly string[]).includes(status);
}

/** Options for {@link EndedTasks}. */
export interface EndedTasksOptions {
  /**
   * Most task ids remembered; past it the oldest is forgotten. A forgotten task's work would be
   * refused by the orchestrator's own `TASK_ENDED` checks, so the bound only trades memory.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * How long an ended task is remembered. Work is queued for far less than this.
   * @default 86400000 (24 h)
   */
  ttlMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

/** Called once when a watched task ends. */
export type TaskEndedListener = (status: FinalTaskStatus) => void;

interface Entry {
  status: FinalTaskStatus;
  at: number;
}

/**
 * A bounded registry of ended tasks, fed by the `task.updated` subscription and the replay of
 * stored events at start, that the subtask worker asks before starting a subtask and watches
 * while one runs.
 */
export class EndedTasks {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Map<string, Set<TaskEndedListener>>();
  private readonly maxEntries: number;
  /** How long an ended task is remembered (see {@link EndedTasksOptions.ttlMs}). */
  readonly ttlMs: number;
  private readonly clock: Clock;

  constructor(options: EndedTasksOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.clock = options.clock ?? systemClock;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (!(this.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
  }

  /**
   * Records a task status: a final one is remembered and its watchers are told (once); any
   * other status is ignored, since a task never leaves a final status. Returns whether the
   * task was newly recorded as ended.
   */
  observe(taskId: string, status: string): boolean {
    if (!isFinalTaskStatus(status)) return false;
    this.expire();
    // The first final status wins: a later `failed` does not rewrite a `cancelled`.
    if (this.entries.has(taskId)) return false;
    this.entries.set(taskId, { status, at: this.clock.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    const watchers = this.listeners.get(taskId);
    this.listeners.delete(taskId);
    for (const listener of watchers ?? []) listener(status);
    return true;
  }

  /** The final status of a task, or undefined when it has not ended (or was forgotten). */
  get(taskId: string): FinalTaskStatus | undefined {
    const entry = this.entries.get(taskId);
    if (entry === undefined) return undefined;
    if (this.clock.now() - entry.at >= this.ttlMs) {
      this.entries.delete(taskId);
      return undefined;
    }
    return entry.status;
  }

  /**
   * Calls `listener` when `taskId` ends (at once, synchronously, when it already has) and
   * returns a function that stops watching; call it when the subtask is over.
   */
  watch(taskId: string, listener: TaskEndedListener): () => void {
    const status = this.get(taskId);
    if (status !== undefined) {
      listener(status);
      return () => undefined;
    }
    let set = this.listeners.get(taskId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(taskId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(taskId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(taskId);
    };
  }

  /** How many ended tasks are remembered (expired ones included until they are swept). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries; entries are in insertion (and so time) order, oldest first. */
  private expire(): void {
    const now = this.clock.now();
    for (const [taskId, entry] of this.entries) {
      if (now - entry.at < this.ttlMs) break;
      this.entries.delete(taskId);
    }
  }
}
