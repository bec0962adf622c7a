import { trace } from '@opentelemetry/api';
import { createSilentLogger, initTelemetry, ManualClock, OperationalError, withSpan, type Telemetry } from '@maestro/runtime';
import { EffectQueue, type Effect } from './effect-queue.js';

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
  it('publishes a run\'s effects in order and resolves once published', async () => {
    const { state, effect } = target();
    const queue = new EffectQueue({ logger: createSilentLogger(), clock: new ManualClock() });
    await queue.enqueue('run-1', [effect('a'), effect('b')]);
    expect(state.published).toEqual(['a', 'b']);
    expect(queue.pending).toBe(0);
    expect(queue.activeKeys).toBe(0);
  });

  it('keeps retrying a failed publish, in order, without holding callers', async () => {
    const clock = new ManualClock();
    const { state, effect } = target();
    const queue = new EffectQueue({ logger: createSilentLogger(), clock, backoffMs: () => 1000 });
    state.down = true;
    await queue.enqueue('run-1', [effect('a'), effect('b')]); // resolves after the first failed attempt
    await queue.enqueue('run-1', [effect('c')]); // resolves at once while the run's lane is failing
    expect(state.published).toEqual([]);
    expect(queue.pending).toBe(3);

    expect(state.attempts).toBe(2); // a and b went out together, both failed; c waits behind them
    clock.advance(1000);
    await flush();
    expect(state.attempts).toBe(4); // both retried, still down
    state.down = false;
    clock.advance(1000);
    await flush();
    await flush();
    expect(state.published).toEqual(['a', 'b', 'c']);
    expect(queue.pending).toBe(0);
  });

  it('publishes different runs at the same time; a run\'s later effects wait for its earlier ones', async () => {
    const queue = new EffectQueue({ logger: createSilentLogger(), clock: new ManualClock() });
    const events: string[] = [];
    const releases = new Map<string, () => void>();
    const effect = (name: string): Effect => ({
      description: name,
      publish: async () => {
        events.push(`start ${name}`);
        await new Promise<void>((resolve) => releases.set(name, resolve));
        events.push(`end ${name}`);
      },
    });

    const run1 = queue.enqueue('run-1', [effect('1a'), effect('1b')]);
    const run2 = queue.enqueue('run-2', [effect('2a')]);
    await flush();
    // One step's effects go out together, in order; the other run's do not wait for them.
    expect(events).toEqual(['start 1a', 'start 1b', 'start 2a']);
    expect(queue.activeKeys).toBe(2);

    releases.get('2a')!();
    await run2; // run-2 is done while run-1's publishes are still out
    expect(events.slice(3)).toEqual(['end 2a']);

    const later = queue.enqueue('run-1', [effect('1c')]);
    releases.get('1a')!();
    await flush();
    // 1c (a later step) waits until every effect of the step before it is acked.
    expect(events.slice(4)).toEqual(['end 1a']);
    releases.get('1b')!();
    await run1;
    await flush();
    expect(events.slice(5)).toEqual(['end 1b', 'start 1c']);
    releases.get('1c')!();
    await later;
    expect(queue.activeKeys).toBe(0);
  });

  it('retries only the failed effects of a step, in order, before anything enqueued after them', async () => {
    const clock = new ManualClock();
    const published: string[] = [];
    const attempts: string[] = [];
    const down = new Set(['b', 'c']);
    const effect = (name: string): Effect => ({
      description: name,
      publish: async () => {
        attempts.push(name);
        if (down.has(name)) throw new OperationalError('BUS_PUBLISH_FAILED', `stream of ${name} unavailable`);
        published.push(name);
      },
    });
    const queue = new EffectQueue({ logger: createSilentLogger(), clock, backoffMs: () => 1000 });
    await queue.enqueue('run-1', [effect('a'), effect('b'), effect('c'), effect('d')]);
    expect(published).toEqual(['a', 'd']);
    await queue.enqueue('run-1', [effect('e')]); // the lane is failing: queued, not held
    expect(queue.pending).toBe(3);

    down.delete('b');
    clock.advance(1000);
    await flush();
    // b went out; c failed again and still holds e back.
    expect(published).toEqual(['a', 'd', 'b']);
    down.clear();
    clock.advance(1000);
    await flush();
    await flush();
    expect(published).toEqual(['a', 'd', 'b', 'c', 'e']);
    // Published effects are never published again; each failed one is retried once per round.
    expect(attempts).toEqual(['a', 'b', 'c', 'd', 'b', 'c', 'c', 'e']);
    expect(queue.pending).toBe(0);
  });

  it('lets a run whose publishes keep failing hold back only its own effects', async () => {
    const clock = new ManualClock();
    const published: string[] = [];
    let run1Down = true;
    const effect = (key: string, name: string): Effect => ({
      description: name,
      publish: async () => {
        if (key === 'run-1' && run1Down) throw new OperationalError('BUS_PUBLISH_FAILED', 'stream unavailable');
        published.push(name);
      },
    });
    const queue = new EffectQueue({ logger: createSilentLogger(), clock, backoffMs: () => 1000 });
    await queue.enqueue('run-1', [effect('run-1', '1a'), effect('run-1', '1b')]);
    await queue.enqueue('run-2', [effect('run-2', '2a')]);
    await queue.enqueue('run-2', [effect('run-2', '2b')]);
    expect(published).toEqual(['2a', '2b']);
    expect(queue.pending).toBe(2);

    run1Down = false;
    clock.advance(1000);
    await flush();
    await flush();
    expect(published).toEqual(['2a', '2b', '1a', '1b']);
    expect(queue.pending).toBe(0);
  });

  it('reports publish latency, retries and drops to its observer', async () => {
    const clock = new ManualClock();
    const { state, effect } = target();
    const seen = { published: 0, retried: 0, dropped: [] as string[] };
    const queue = new EffectQueue({
      logger: createSilentLogger(),
      clock,
      backoffMs: () => 1000,
      observer: { published: () => void seen.published++, retried: () => void seen.retried++, dropped: (reason) => void seen.dropped.push(reason) },
    });
    await queue.enqueue('run-1', [effect('a')]);
    state.down = true;
    await queue.enqueue('run-1', [effect('b')]);
    await queue.stop();
    expect(seen).toEqual({ published: 1, retried: 1, dropped: ['stopping'] });
  });

  it('drops what is left on stop, without waiting for the backoff', async () => {
    const clock = new ManualClock();
    const { state, effect } = target();
    const queue = new EffectQueue({ logger: createSilentLogger(), clock, backoffMs: () => 60_000 });
    state.down = true;
    await queue.enqueue('run-1', [effect('a')]);
    await queue.stop();
    expect(queue.pending).toBe(0);
    state.down = false;
    await queue.enqueue('run-1', [effect('b')]);
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
      first = queue.enqueue('run-1', [effect('a', blocked)]);
      return span.spanContext().traceId;
    });
    let second: Promise<void> = Promise.resolve();
    const traceB = await withSpan('call b', {}, async (span) => {
      second = queue.enqueue('run-1', [effect('b')]);
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
    await queue.enqueue('run-1', [effect('a'), broken, effect('b')]);
    await queue.enqueue('run-1', [effect('c')]);
    await queue.settled();
    // No clock advance was needed: nothing waited on a backoff.
    expect(state.published).toEqual(['a', 'b', 'c']);
    expect(attempts).toBe(1);
    expect(reported).toEqual([expect.any(TypeError)]);
    expect(queue.pending).toBe(0);
  });
});
