/**
 * OpenTelemetry set-up and the trace-context helpers the gRPC and NATS edges use. There is
 * no NATS instrumentation upstream, so trace context travels in message headers by hand
 * (W3C `traceparent`), exactly as it does in gRPC metadata.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
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
  /** More processors for finished spans (tests read spans through an in-memory exporter). @default [] */
  spanProcessors?: SpanProcessor[];
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
  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
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

/** Span attributes maestro sets, named once for every service. */
export const TraceAttributes = {
  /** The task a span works for: every span caused by the task's work, none of mere reads about it. */
  taskId: 'maestro.task_id',
} as const;

/** Adds attributes to the active span (a handler saying what its call works for). */
export function setActiveSpanAttributes(attributes: Record<string, string | number | boolean>): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/**
 * The active trace context, for work queued now and done later from another call's context (a
 * queue drained by a loop that whichever caller enqueued first started): keep it with the entry
 * and do the work inside it with {@link withTraceContext}.
 */
export function activeTraceContext(): Context {
  return context.active();
}

/** Runs `fn` with `ctx` active, so the spans and outgoing headers it makes belong to that trace. */
export function withTraceContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

const TRACER_NAME = 'codemaestro';

/**
 * The tracer every maestro package uses. It looks the registered provider up on every use
 * rather than once at load: this module gets the ESM build of `@opentelemetry/api` and the SDK
 * registers through the CommonJS build, two instances sharing only the global registry, so a
 * tracer taken from this instance before `initTelemetry` ran would stay a no-op for ever (its
 * proxy is never told about the provider) and no span of the process would be recorded.
 */
export const tracer: Tracer = {
  startSpan: (name, options, ctx) => trace.getTracer(TRACER_NAME).startSpan(name, options, ctx),
  startActiveSpan: ((...args: unknown[]) =>
    (trace.getTracer(TRACER_NAME).startActiveSpan as (...rest: unknown[]) => unknown)(...args)) as Tracer['startActiveSpan'],
};

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

/**
 * A trace context as plain fields (`traceparent`, `tracestate`), for keeping it with a record
 * whose work goes on long after the call that began it (a task's background work).
 */
export type TraceCarrier = Readonly<Record<string, string>>;

/** The active (or given) trace context as a {@link TraceCarrier}; empty when nothing is traced. */
export function toTraceCarrier(ctx: Context = context.active()): TraceCarrier {
  const fields: Record<string, string> = {};
  injectTraceContext({ get: (key) => fields[key], set: (key, value) => (fields[key] = value) }, ctx);
  return fields;
}

/** The context a {@link TraceCarrier} holds, for parenting spans on it. */
export function fromTraceCarrier(carrier: TraceCarrier): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, {
    get: (fields, key) => fields[key],
    keys: (fields) => Object.keys(fields),
  });
}

/** The trace id of a context's span, or undefined when it carries none (or tracing is a no-op). */
export function traceIdIn(ctx: Context): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
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
  options: {
    kind?: SpanKind;
    parent?: Context;
    attributes?: Record<string, string | number | boolean>;
    /** Spans this one follows from without being their child (e.g. a message handled in another trace). */
    links?: Link[];
  },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, ...(options.links ? { links: options.links } : {}) },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Starts a span that the caller ends (for work whose start and end are separate callbacks, like
 * an HTTP request's hooks); {@link withSpan} is simpler whenever one function covers the work.
 */
export function startSpan(
  name: string,
  options: { kind?: SpanKind; parent?: Context; attributes?: Record<string, string | number | boolean> } = {},
): Span {
  return tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, options.parent ?? context.active());
}

/** Runs `fn` with `span` active, so spans and outgoing calls made inside are its children. */
export function withActiveSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Marks a span failed with the error's message. */
export function recordSpanFailure(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * Runs `fn` inside a new span of the trace `kept` names (a context kept with a record, see
 * {@link toTraceCarrier}), for background work that belongs to that record's trace whatever
 * woke it up. When the active context is in that trace already the span is its child (and the
 * active span gets the same `attributes`, as it is that record's work too); when it is in
 * another trace the new span is parented on `kept` and linked to the active span. Without
 * `kept` the span is a child of the active context.
 */
export async function withSpanInTrace<T>(
  name: string,
  kept: TraceCarrier | null,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean> },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const active = context.active();
  const activeTrace = traceIdIn(active);
  const keptContext = kept ? fromTraceCarrier(kept) : undefined;
  const keptTrace = keptContext ? traceIdIn(keptContext) : undefined;
  if (keptContext === undefined || keptTrace === undefined || keptTrace === activeTrace) {
    if (activeTrace && options.attributes) trace.getSpan(active)?.setAttributes(options.attributes);
    return withSpan(name, { ...options, parent: active }, fn);
  }
  const activeSpan = trace.getSpanContext(active);
  const links = activeSpan && activeTrace ? [{ context: activeSpan }] : [];
  return withSpan(name, { ...options, parent: keptContext, links }, fn);
}

export { SpanKind, type Context, type Span };
