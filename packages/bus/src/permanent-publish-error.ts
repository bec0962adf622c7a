/**
 * Which failures to publish a message can never succeed on retry, so a publisher that retries in
 * the background (the executor's step outbox, the workflow-engine's effect queue) drops it
 * at once instead of retrying it: anything that is not an `OperationalError` (a bug, a
 * payload that fails its schema) and a message larger than the server's `max_payload` (the bus
 * wraps it in an `OperationalError`, but it is the same every time). A missing stream is not
 * among them: it looks like "no responders", which JetStream also answers while a restarted
 * server loads its streams; the caller's attempt limit bounds that case.
 */
import { OperationalError } from '@maestro/runtime';

/** True when publishing the same message again cannot succeed. */
export function isPermanentPublishError(err: unknown): boolean {
  if (!(err instanceof OperationalError)) return true;
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (/max_payload|max payload/i.test(cause.message)) return true;
  }
  return false;
}
