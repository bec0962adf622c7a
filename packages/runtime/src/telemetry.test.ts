import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  fromTraceCarrier,
  initTelemetry,
  toTraceCarrier,
  traceIdIn,
  traceIdOf,
  withSpan,
  withSpanInTrace,
  type Telemetry,
  type TraceCarrier,
} from './telemetry.js';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
beforeAll(() => {
  telemetry = initTelemetry({ serviceName: 'telemetry-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
afterAll(async () => {
  await telemetry.shutdown();
});
beforeEach(() => exporter.reset());

function finished(name: string) {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (!span) throw new Error(`no finished span ${name}`);
  return span;
}

/** The context of a span started (and ended) in a trace of its own, as a record would keep it. */
async function keptTrace(): Promise<{ carrier: TraceCarrier; traceId: string; spanId: string }> {
  return withSpan('submit', {}, async (span) => ({ carrier: toTraceCarrier(), traceId: span.spanContext().traceId, spanId: span.spanContext().spanId }));
}

it('carries a trace context through plain fields and back', async () => {
  const kept = await keptTrace();
  expect(kept.carrier['traceparent']).toContain(kept.traceId);
  expect(traceIdIn(fromTraceCarrier(kept.carrier))).toBe(kept.traceId);
});

it('starts work woken up in another trace in the kept trace, linked to what woke it up', async () => {
  const kept = await keptTrace();
  const waker = await withSpan('poll', {}, async (poll) => {
    await withSpanInTrace('start run', kept.carrier, { attributes: { 'maestro.task_id': 't1' } }, async () => undefined);
    return poll.spanContext();
  });
  const work = finished('start run');
  expect(work.spanContext().traceId).toBe(kept.traceId);
  expect(work.parentSpanContext?.spanId).toBe(kept.spanId);
  expect(work.links.map((l) => l.context.spanId)).toEqual([waker.spanId]);
  expect(work.attributes['maestro.task_id']).toBe('t1');
  // The poll's own span does not claim the task's work.
  expect(finished('poll').attributes['maestro.task_id']).toBeUndefined();
});

it('nests work already in the kept trace under the active span, which gets the attributes too', async () => {
  const kept = await keptTrace();
  await withSpan('consume', { parent: fromTraceCarrier(kept.carrier) }, async () => {
    await withSpanInTrace('handle', kept.carrier, { attributes: { 'maestro.task_id': 't1' } }, async () => undefined);
  });
  const consume = finished('consume');
  const handle = finished('handle');
  expect(handle.parentSpanContext?.spanId).toBe(consume.spanContext().spanId);
  expect(handle.links).toEqual([]);
  expect(consume.attributes['maestro.task_id']).toBe('t1');
});

it('nests work with no kept trace under the active span', async () => {
  const traceId = await withSpan('call', {}, async (call) => {
    await withSpanInTrace('first work', null, {}, async () => undefined);
    return traceIdOf(call);
  });
  expect(finished('first work').spanContext().traceId).toBe(traceId);
  expect(finished('first work').parentSpanContext?.spanId).toBe(finished('call').spanContext().spanId);
});
