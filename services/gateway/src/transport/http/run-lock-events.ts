/**
 * Which lock events belong to a run's stream. Lock events name a lease owner, not a run; an
 * executor owns its leases as `executor:<executorId>:<subtaskId>`, so an event is the run's when
 * its owner names one of the subtasks of the run's task. The subtask ids come from the task
 * (GetTask); a re-plan adds subtasks, so an owner naming an unknown subtask makes the filter
 * read the task again before deciding.
 *
 * Reads are bounded: one at a time (unknown ids seen meanwhile wait for the next), each unknown
 * id costs at most one read (an id a read did not find is remembered as another task's), and a
 * stream makes at most `maxTaskReads` reads in all. Events keep their order: while a read is
 * pending, later events wait behind it.
 */
import type { Logger } from '@maestro/runtime';
import type { BusEvent, OrchestratorApi } from '../../ports.js';

/** Bounds of {@link RunLockEventFilter}. */
export const RunLockEventLimits = {
  /** Task reads one stream makes at most (the first one included). */
  maxTaskReads: 50,
  /** Events held while a task read is pending; later ones are dropped. */
  maxPending: 1000,
} as const;

/** Options of {@link RunLockEventFilter}. */
export interface RunLockEventFilterOptions {
  /** The run's task (`context.input.taskId`). */
  taskId: string;
  tasks: Pick<OrchestratorApi, 'getTask'>;
  /** Receives the run's lock events, in the order they arrived. */
  emit: (event: BusEvent) => void;
  logger: Logger;
  /** @default RunLockEventLimits.maxTaskReads */
  maxTaskReads?: number;
  /** @default RunLockEventLimits.maxPending */
  maxPending?: number;
}

/** The subtask an executor's lock owner names (`executor:<executorId>:<subtaskId>`), or undefined for any other owner. */
export function subtaskIdOfLockOwner(owner: unknown): string | undefined {
  if (typeof owner !== 'string') return undefined;
  const match = /^executor:[^:]+:(.+)$/.exec(owner);
  return match?.[1];
}

interface PendingEvent {
  event: BusEvent;
  subtaskId: string;
}

/** Passes on the lock events of one task's subtasks; starts reading the task when constructed. */
export class RunLockEventFilter {
  private subtaskIds: ReadonlySet<string> = new Set();
  /** Ids a read made after they were first seen did not find: another task's subtasks. */
  private readonly foreign = new Set<string>();
  private readonly pending: PendingEvent[] = [];
  private loaded = false;
  private busy = false;
  private closed = false;
  private reads = 0;
  private warnedFull = false;
  private readonly maxTaskReads: number;
  private readonly maxPending: number;

  constructor(private readonly options: RunLockEventFilterOptions) {
    this.maxTaskReads = options.maxTaskReads ?? RunLockEventLimits.maxTaskReads;
    this.maxPending = options.maxPending ?? RunLockEventLimits.maxPending;
    void this.drain();
  }

  /** How many times the task has been read so far. */
  get taskReads(): number {
    return this.reads;
  }

  /** Whether no task read is pending. */
  get idle(): boolean {
    return !this.busy;
  }

  /** Takes one lock event: passes it on, drops it, or holds it until the task is read. */
  offer(event: BusEvent): void {
    if (this.closed) return;
    const subtaskId = subtaskIdOfLockOwner(event.payload.owner);
    if (subtaskId === undefined) return;
    if (!this.busy && this.pending.length === 0) {
      if (this.subtaskIds.has(subtaskId)) {
        this.options.emit(event);
        return;
      }
      if (!this.mayRead(subtaskId)) return;
    }
    if (this.pending.length >= this.maxPending) {
      if (!this.warnedFull) this.options.logger.warn('lock events dropped while the run stream reads its task', { taskId: this.options.taskId });
      this.warnedFull = true;
      return;
    }
    this.pending.push({ event, subtaskId });
    if (!this.busy) void this.drain();
  }

  /** Stops passing events on; a read in flight is ignored when it returns. */
  close(): void {
    this.closed = true;
    this.pending.length = 0;
  }

  private mayRead(subtaskId: string): boolean {
    return !this.subtaskIds.has(subtaskId) && !this.foreign.has(subtaskId) && this.reads < this.maxTaskReads;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (!this.closed) {
        if (this.loaded) {
          this.flush();
          if (this.pending.length === 0) return;
        }
        if (!(await this.readTask())) {
          // The orchestrator did not answer: decide with what is known; a later unknown id reads again.
          this.flush(true);
          return;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /** Passes on or drops held events in order, up to the first one that needs a read (unless `final`). */
  private flush(final = false): void {
    while (this.pending.length > 0 && !this.closed) {
      const next = this.pending[0] as PendingEvent;
      if (this.subtaskIds.has(next.subtaskId)) this.options.emit(next.event);
      else if (!final && this.mayRead(next.subtaskId)) return;
      this.pending.shift();
    }
  }

  private async readTask(): Promise<boolean> {
    // Only ids seen before this read started may be judged by it: one seen during the read may
    // have been added by a re-plan the read did not see yet.
    const asked = new Set(this.pending.map((p) => p.subtaskId).filter((id) => !this.subtaskIds.has(id)));
    this.reads++;
    try {
      const task = await this.options.tasks.getTask({ taskId: this.options.taskId });
      this.subtaskIds = new Set(task.subtasks.map((s) => s.id));
      for (const id of asked) if (!this.subtaskIds.has(id)) this.foreign.add(id);
      this.loaded = true;
      return true;
    } catch (err) {
      this.loaded = true;
      this.options.logger.warn('reading the task for the run stream lock events failed', { taskId: this.options.taskId, err });
      return false;
    }
  }
}
