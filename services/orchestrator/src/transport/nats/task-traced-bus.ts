/**
 * A bus whose work consumers handle every message naming a task inside that task's trace
 * (`TaskTracing`). Which task a message is about is read from the shapes Orion consumes:
 * `taskId` (subtask results, escalations, work steps), `input.taskId` (run events: the run's
 * input) and `context.input.taskId` (activity requests: the run's context). A message naming no
 * task is handled as it comes.
 */
import type { Bus, WorkConsumerOptions } from '@maestro/bus';
import type { TaskTracing } from '../../app/task-tracing.js';

/** The bus operations Orion uses. */
export type OrchestratorBus = Pick<Bus, 'consume' | 'publish' | 'publishEvent'>;

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** The task a consumed payload is about, if it names one. */
export function taskIdOf(payload: unknown): string | undefined {
  for (const candidate of [field(payload, 'taskId'), field(field(payload, 'input'), 'taskId'), field(field(field(payload, 'context'), 'input'), 'taskId')]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
  }
  return undefined;
}

/** Wraps `bus` so that its consumers' handlers (and dead-letter handlers) run in their task's trace. */
export function withTaskTraces(bus: OrchestratorBus, tracing: TaskTracing): OrchestratorBus {
  const inTaskTrace = <R>(name: string, payload: unknown, fn: () => Promise<R>): Promise<R> => {
    const taskId = taskIdOf(payload);
    return taskId === undefined ? fn() : tracing.run(name, taskId, fn);
  };
  return {
    consume: <T>(options: WorkConsumerOptions<T>) => {
      const { handler, onDeadLetter } = options;
      return bus.consume<T>({
        ...options,
        handler: (payload, delivery) => inTaskTrace(`handle ${delivery.subject}`, payload, () => handler(payload, delivery)),
        ...(onDeadLetter
          ? { onDeadLetter: (dead) => inTaskTrace(`dead letter ${dead.subject}`, dead.payload, () => onDeadLetter(dead)) }
          : {}),
      });
    },
    publish: (subject, payload, options) => bus.publish(subject, payload, options),
    publishEvent: (subject, payload) => bus.publishEvent(subject, payload),
  };
}
