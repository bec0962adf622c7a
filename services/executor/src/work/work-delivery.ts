/**
 * What the transport hands the subtask worker with each delivery of a work item, and the
 * hand-back that gives a delivery back for redelivery without having failed at it.
 */
import { HandBackError } from '@maestro/bus';

/** What the transport hands the worker with each delivery. */
export interface WorkDelivery {
  /**
   * Tells JetStream the work is alive, restarting its ack wait. Called on every agent step;
   * the bus also sends it on a timer while the handler runs, covering a long single step.
   */
  working(): void;
  /** Aborted when the executor shuts down and in-flight work must be handed back. */
  signal?: AbortSignal;
}

/** The hand-back of a delivery cut short by shutdown: redelivered at once, never a dead letter. */
export function handedBack(cause: unknown, message = 'subtask interrupted by executor shutdown; handed back for redelivery'): HandBackError {
  return new HandBackError(message, { cause });
}
