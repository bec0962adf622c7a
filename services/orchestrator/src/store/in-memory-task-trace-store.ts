/**
 * A {@link TaskTraceStore} in a map, for tests and for an orchestrator wired without
 * PostgreSQL. Every task id counts as known.
 */
import type { TraceCarrier } from '@maestro/runtime';
import type { TaskTraceStore } from './task-trace-store.js';

/** Trace contexts kept in memory. */
export class InMemoryTaskTraceStore implements TaskTraceStore {
  private readonly carriers = new Map<string, TraceCarrier>();

  async remember(taskId: string, carrier: TraceCarrier): Promise<TraceCarrier> {
    const kept = this.carriers.get(taskId);
    if (kept) return kept;
    const copy = { ...carrier };
    this.carriers.set(taskId, copy);
    return copy;
  }

  async recall(taskId: string): Promise<TraceCarrier | null> {
    return this.carriers.get(taskId) ?? null;
  }
}
