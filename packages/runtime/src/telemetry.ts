/**
 * OpenTelemetry set-up and the trace-context helpers the gRPC and NATS edges use. There is
 * no NATS instrumentation upstream, so trace context travels in message headers by hand
 * (W3C `traceparent`), exactly as it does in gRPC metadata.
 */
import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

/** Options for {@link initTelemetry}. */
export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP endpoint; spans are created and propagated either way, exported only when set. */
  otlpEndpoint?: string;
}

/** A started telemetry pipeline. */
export interface Telemetry {
  /** Flushes and stops exporting; call during shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Registers a tracer provider and the W3C propagator for this process. Call once, first
 * thing in `main.ts`.
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  const spanProcessors: SpanProcessor[] = [];
  if (options.otlpEndpoint) {
    const url = `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors,
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return { shutdown: () => provider.shutdown() };
}

/** The tracer every maestro package uses. */
export const tracer = trace.getTracer('codemaestro');

/** Carrier access for any map-like header container (gRPC Metadata, NATS headers). */
export interface HeaderCarrier {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

const setter: TextMapSetter<HeaderCarrier> = { set: (carrier, key, value) => carrier.set(key, value) };
const getter: TextMapGetter<HeaderCarrier> = {
  get: (carrier, key) => carrier.get(key),
  keys: () => ['traceparent', 'tracestate'],
};

/** Writes the active trace context into outgoing headers. */
export function injectTraceContext(carrier: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, carrier, setter);
}

/** Reads a trace context from incoming headers. */
export function extractTraceContext(carrier: HeaderCarrier): Context {
  return propagation.extract(context.active(), carrier, getter);
}

/** The trace id of a span (for log lines), or undefined when tracing is a no-op. */
export function traceIdOf(span: Span): string | undefined {
  const id = span.spanContext().traceId;
  return /^0+$/.test(id) ? undefined : id;
}

/**
 * Runs `fn` inside a new span (child of `parent`), recording failure and ending the span.
 */
export async function withSpan<T>(
  name: string,
  options: { kind?: SpanKind; parent?: Context; attributes?: Record<string, string | number | boolean> },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanKind };
