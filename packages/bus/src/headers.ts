/**
 * Trace context in NATS message headers. There is no NATS instrumentation for OpenTelemetry,
 * so every publish writes `traceparent` and every handler reads it back.
 */
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { extractTraceContext, injectTraceContext, type HeaderCarrier } from '@maestro/runtime';
import type { Context } from '@opentelemetry/api';

/** A carrier view over NATS headers. */
export function headerCarrier(headers: MsgHdrs): HeaderCarrier {
  return {
    get: (key) => (headers.has(key) ? headers.get(key) : undefined),
    set: (key, value) => headers.set(key, value),
  };
}

/** New headers holding the active trace context. */
export function tracedHeaders(): MsgHdrs {
  const headers = createHeaders();
  injectTraceContext(headerCarrier(headers));
  return headers;
}

/** The trace context carried by a message, if any. */
export function traceContextOf(headers: MsgHdrs | undefined): Context | undefined {
  return headers ? extractTraceContext(headerCarrier(headers)) : undefined;
}
