import { trace } from '@opentelemetry/api';
import { createSilentLogger, initTelemetry, ManualClock, OperationalError, withSpan, type Telemetry } from '@maestro/runtime';
import { EffectQueue, isPermanentPublishError, type Effect } from './effect-queue.js';

// A real tracer provider (no exporter): it registers the async context manager that carries the
// active span across awaits, as in the running service.
let telemetry: Telemetry;
beforeAll(() => {
  telemetry = initTelemetry({ serviceName: 'effect-queue-test' });
});
afterAll(async () => {
  await telemetry.shutdown();
});

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A publish target that fails while `down` is true and records what got through. */
function target() {
  const state = { down: false, published: [] as string[], attempts: 0 };
  const effect = (name: string): Effect => ({
    description: name,
    publish: async () => {
      state.attempts++;
      if (state.down) throw new OperationalError('BUS_PUBLISH_FAILED', 'nats down');
      state.published.push(name);
    },
  });
  return { state, effect };
}

describe('EffectQueue', () => {
  it('publishes in order and resolves once published', async () => {
    const { state, effect } = target();
    const queue = new EffectQueue({ logger: createSilentLogger(), clock: new ManualClock() });
    await queue.enqueue([effect('a'), effect('b')]);
    expect(state.published).toEqual(['a', 'b']);
    expect(queue.pending).toBe(0);
  });

  it('keeps retrying a failed publish, in order, without holding callers', async () => {
    const clock = new ManualClock();
    const { state, effect } = target();
    const queue = new EffectQueue({ logger: createSilentLogger(), clock, backoffMs: () => 1000 });
    state.down = true;
    await queue.enqueue([effect('a'), effect('b')]); // resolves after the first failed attempt
    await queue.enqueue([effect('c')]); // resolves at once while the queue is failing
    expect(state.published).toEqual([]);
    expect(queue.pending).toBe(3);

    clock.advance(1000);
    await flush();
    expect(state.attempts).toBe(2); // retried, still down
    state.down = false;
    clock.advance(1000);
    await flush();
    await flush();
    expect(state.published).toEqual(['a', 'b', 'c']);
    expect(queue.pending).toBe(0);
  });

  it('drops what is left on stop, without waiting for the backoff', async () => {
    const clock = new ManualClock();
    const { state, effect } = target();
    const queue = new EffectQueue({ logger: createSilentLogger(), clock, backoffMs: () => 60_000 });
    state.down = true;
    await queue.enqueue([effect('a')]);
    await queue.stop();
    expect(queue.pending).toBe(0);
    state.down = false;
    await queue.enqueue([effect('b')]);
    clock.advance(60_000);
    await flush();
    expect(state.published).toEqual([]);
  });

  it('publishes each effect in the trace of the call that enqueued it, not the call that started the drain', async () => {
    const queue = new EffectQueue({ logger: createSilentLogger(), clock: new ManualClock() });
    const seen: Record<string, string | undefined> = {};
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const effect = (name: string, wait?: Promise<void>): Effect => ({
      description: name,
      publish: async () => {
        seen[name] = trace.getActiveSpan()?.spanContext().traceId;
        await wait;
      },
    });

    let first: Promise<void> = Promise.resolve();
    const traceA = await withSpan('call a', {}, async (span) => {
      // Starts the drain, which stays busy with "a" while call b enqueues.
      first = queue.enqueue([effect('a', blocked)]);
      return span.spanContext().traceId;
    });
    let second: Promise<void> = Promise.resolve();
    const traceB = await withSpan('call b', {}, async (span) => {
      second = queue.enqueue([effect('b')]);
      return span.spanContext().traceId;
    });
    release();
    await Promise.all([first, second]);

    expect(traceA).not.toEqual(traceB);
    expect(seen).toEqual({ a: traceA, b: traceB });
  });

  it('drops an effect that fails permanently, tells its owner, and publishes the ones behind it', async () => {
    const clock = new ManualClock();
    const { state, effect } = target();
    const queue = new EffectQueue({ logger: createSilentLogger(), clock, backoffMs: () => 1000 });
    const reported: unknown[] = [];
    let attempts = 0;
    const broken: Effect = {
      description: 'broken',
      publish: async () => {
        attempts++;
        throw new TypeError('payload does not match its schema');
      },
      onPermanentFailure: async (err) => {
        reported.push(err);
      },
    };
    await queue.enqueue([effect('a'), broken, effect('b')]);
    await queue.enqueue([effect('c')]);
    await queue.settled();
    // No clock advance was needed: nothing waited on a backoff.
    expect(state.published).toEqual(['a', 'b', 'c']);
    expect(attempts).toBe(1);
    expect(reported).toEqual([expect.any(TypeError)]);
    expect(queue.pending).toBe(0);
  });
});

describe('isPermanentPublishError', () => {
  it('retries operational errors, but not bugs or payloads over max_payload', () => {
    expect(isPermanentPublishError(new OperationalError('BUS_PUBLISH_FAILED', 'could not publish: TIMEOUT'))).toBe(false);
    expect(isPermanentPublishError(new Error('Expected string, received number'))).toBe(true);
    const tooBig = new Error("'payload' max_payload size exceeded");
    expect(isPermanentPublishError(new OperationalError('BUS_PUBLISH_FAILED', 'could not publish to x', { cause: tooBig }))).toBe(true);
  });
});
