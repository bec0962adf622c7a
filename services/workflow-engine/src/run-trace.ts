/**
 * A run belongs to one trace: the trace of the StartRun call that created it. Its W3C
 * `traceparent` is stored with the run, and every effect of the run (activity requests, run
 * events) is published inside a span parented on it, whichever call, replica or restart
 * committed the step; the NATS headers then carry the task's trace. The call that committed
 * the step is kept as a span link, so neither trace loses the other.
 */
import { context, trace, type Link } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext, tracer } from '@maestro/runtime';

/** The `traceparent` of the active trace context, or null when there is none (no tracing set up). */
export function captureTraceParent(): string | null {
  let traceParent: string | null = null;
  injectTraceContext({
    get: () => undefined,
    set: (key, value) => {
      if (key === 'traceparent') traceParent = value;
    },
  });
  return traceParent;
}

/**
 * Runs `fn` inside a span named `name` whose parent is the run's stored trace, linked to the
 * caller's span; without a stored trace, in the caller's context as it is.
 */
export async function inRunTrace<T>(traceParent: string | null, name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
  if (traceParent === null) return fn();
  const parent = extractTraceContext({ get: (key) => (key === 'traceparent' ? traceParent : undefined), set: () => undefined });
  const caller = trace.getSpanContext(context.active());
  const links: Link[] = caller !== undefined && trace.isSpanContextValid(caller) ? [{ context: caller }] : [];
  const span = tracer.startSpan(name, { attributes, links }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    throw err;
  } finally {
    span.end();
  }
}
