/**
 * Runs a task's work inside the task's one trace. The trace begins with the call that submits
 * the task; the work that follows (activities, subtask results, run events, escalations, StartRun
 * retries) is woken up later by messages and timers whose own context may belong to another
 * trace (a GetTask that retried StartRun, a message republished without headers) or to none.
 * Each piece of work gets a span of the task's kept trace (linked to what woke it up when that
 * is another trace); the first traced work of a task keeps its context for the rest
 * (`TaskTraceStore`).
 */
import { toMaestroError, toTraceCarrier, TraceAttributes, withSpanInTrace, type Logger, type TraceCarrier } from '@maestro/runtime';
import type { TaskTraceStore } from '../store/task-trace-store.js';

/** Options for {@link TaskTracing}. */
export interface TaskTracingOptions {
  /** Task trace contexts remembered in memory (they never change once kept). @default 1000 */
  cacheSize?: number;
}

/** Starts task work in the task's trace. */
export class TaskTracing {
  private readonly cache = new Map<string, TraceCarrier>();
  private readonly cacheSize: number;

  constructor(
    private readonly store: TaskTraceStore,
    private readonly logger: Logger,
    options: TaskTracingOptions = {},
  ) {
    this.cacheSize = options.cacheSize ?? 1000;
  }

  /**
   * Runs `fn` inside a span `name` of the task's trace. Tracing never fails the work: a store
   * that cannot be read leaves the span where the active context puts it.
   */
  async run<T>(name: string, taskId: string, fn: () => Promise<T>): Promise<T> {
    const kept = await this.recall(taskId);
    return withSpanInTrace(name, kept, { attributes: { [TraceAttributes.taskId]: taskId } }, async () => {
      if (!kept) await this.keep(taskId, toTraceCarrier());
      return fn();
    });
  }

  private async recall(taskId: string): Promise<TraceCarrier | null> {
    const cached = this.cache.get(taskId);
    if (cached) return cached;
    try {
      const kept = await this.store.recall(taskId);
      if (kept) this.cacheCarrier(taskId, kept);
      return kept;
    } catch (err) {
      this.logger.warn('task trace context not read; the work is traced where it was woken up', { taskId, code: toMaestroError(err).code });
      return null;
    }
  }

  private async keep(taskId: string, carrier: TraceCarrier): Promise<void> {
    if (carrier['traceparent'] === undefined) return; // nothing is traced in this process
    try {
      const kept = await this.store.remember(taskId, carrier);
      if (kept) this.cacheCarrier(taskId, kept);
    } catch (err) {
      this.logger.warn('task trace context not kept; later work of the task may start other traces', {
        taskId,
        code: toMaestroError(err).code,
      });
    }
  }

  private cacheCarrier(taskId: string, carrier: TraceCarrier): void {
    this.cache.delete(taskId);
    this.cache.set(taskId, carrier);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}
