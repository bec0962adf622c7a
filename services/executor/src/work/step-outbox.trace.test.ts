/**
 * The step outbox publishes each step in the trace it was queued in, with a real OpenTelemetry
 * tracer provider: the publish span and the `traceparent` a publish writes belong to the step's
 * own task even when another task's step started the sender or failed before it.
 */
import type { WorkStepEvent } from '@maestro/contracts';
import {
  createSilentLogger,
  initTelemetry,
  ManualClock,
  OperationalError,
  SpanKind,
  toTraceCarrier,
  traceIdOf,
  withSpan,
  type Telemetry,
  type TelemetryOptions,
} from '@maestro/runtime';
import { StepOutbox } from './step-outbox.js';

type SpanProcessor = NonNullable<TelemetryOptions['spanProcessors']>[number];
type EndedSpan = Parameters<SpanProcessor['onEnd']>[0];

const ended: EndedSpan[] = [];
const recorder: SpanProcessor = {
  onStart: () => undefined,
  onEnd: (span) => void ended.push(span),
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

let telemetry: Telemetry;
beforeAll(() => {
  telemetry = initTelemetry({ serviceName: 'step-outbox-trace-test', spanProcessors: [recorder] });
});
afterAll(async () => {
  await telemetry.shutdown();
});

const settle = () => new Promise((resolve) => setImmediate(resolve));

function step(taskId: string, index: number): WorkStepEvent {
  return { taskId, runId: 'r', subtaskId: 's', executorId: 'e', attempt: 1, step: index, kind: 'model', summary: `${taskId}#${index}`, ok: true, at: '2026-01-01T00:00:00.000Z' };
}

/** Publishes the way the bus does (a producer span, the active context written as headers), failing while `down`. */
class TracingStream {
  down = false;
  readonly traceparents = new Map<string, string>();

  async publishStep(event: WorkStepEvent): Promise<void> {
    await withSpan(`publish ${event.summary}`, { kind: SpanKind.PRODUCER }, async () => {
      if (this.down) throw new OperationalError('BUS_PUBLISH_FAILED', 'could not publish: connection lost');
      this.traceparents.set(event.summary, toTraceCarrier()['traceparent'] ?? '');
    });
  }
}

/** Runs `fn` in a span of a new trace (a task's work) and returns that trace's id. */
async function inTask(name: string, fn: () => void): Promise<string> {
  return withSpan(name, {}, async (span) => {
    fn();
    return traceIdOf(span) ?? '';
  });
}

it('publishes every step under the trace it was queued in, whichever task started the sender', async () => {
  const clock = new ManualClock();
  const stream = new TracingStream();
  const outbox = new StepOutbox({ publisher: stream, clock, logger: createSilentLogger(), retryBaseMs: 100, retryMaxMs: 100 });
  stream.down = true;
  const traceA = await inTask('task A', () => outbox.enqueue('w1', step('A', 0)));
  const traceB = await inTask('task B', () => outbox.enqueue('w2', step('B', 0)));
  // A later step of the first work item, queued while its first one is being retried.
  const traceC = await inTask('task A, later call', () => outbox.enqueue('w1', step('A', 1)));
  expect(new Set([traceA, traceB, traceC]).size).toBe(3);
  expect(traceA).toMatch(/^[0-9a-f]{32}$/);
  await settle();

  stream.down = false;
  clock.advance(100);
  await Promise.all([outbox.flushed('w1'), outbox.flushed('w2')]);

  const publishTrace = (summary: string) =>
    ended.filter((span) => span.name === `publish ${summary}` && span.status.code !== 2).map((span) => span.spanContext().traceId);
  expect(publishTrace('A#0')).toEqual([traceA]);
  expect(publishTrace('B#0')).toEqual([traceB]);
  expect(publishTrace('A#1')).toEqual([traceC]);
  expect(stream.traceparents.get('A#0')).toContain(traceA);
  expect(stream.traceparents.get('B#0')).toContain(traceB);
  expect(stream.traceparents.get('A#1')).toContain(traceC);
});
