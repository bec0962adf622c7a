import { ManualClock, OperationalError, type Clock } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionStreamEvent } from '../chat-provider.js';
import { answer, request as baseRequest, StepProvider, type Step } from '../../test/step-provider.js';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';
import { RetryingProvider, type RetryInfo, type RetryingProviderOptions } from './retrying-provider.js';

const request: CompletionRequest = { ...baseRequest, model: 'gemini-2.5-pro' };
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const unavailable = (details: Record<string, unknown> = {}) =>
  providerError(ProviderErrorCodes.unavailable, 'gemini is overloaded (503)', { provider: 'gemini', status: 503, ...details });
const rateLimited = (retryAfterMs: number) =>
  providerError(ProviderErrorCodes.rateLimited, 'gemini rate limit (429)', { provider: 'gemini', status: 429, retryAfterMs });

/** Records how a promise settles without letting a rejection go unhandled. */
function track<T>(promise: Promise<T>): { settled: () => boolean; value: () => T; error: () => unknown } {
  let state: { done: false } | { done: true; ok: true; value: T } | { done: true; ok: false; error: unknown } = { done: false };
  promise.then(
    (value) => (state = { done: true, ok: true, value }),
    (error: unknown) => (state = { done: true, ok: false, error }),
  );
  return {
    settled: () => state.done,
    value: () => {
      if (!state.done || !state.ok) throw new Error('the call did not succeed');
      return state.value;
    },
    error: () => {
      if (!state.done || state.ok) throw new Error('the call did not fail');
      return state.error;
    },
  };
}

function setup(steps: Step[], options: Omit<RetryingProviderOptions, 'clock' | 'onRetry'> = {}) {
  const clock = new ManualClock();
  const fake = new StepProvider('gemini', steps, clock);
  const retries: RetryInfo[] = [];
  const provider = new RetryingProvider(fake, { clock, onRetry: (info) => retries.push(info), ...options });
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await tick();
  };
  return { clock, fake, provider, retries, advance };
}

describe('RetryingProvider.complete', () => {
  it("waits exactly the provider's retryAfterMs before calling again", async () => {
    const { fake, provider, retries, advance } = setup([rateLimited(5_000), 'hello'], { retry: { baseDelayMs: 100 } });
    const call = track(provider.complete(request));
    await tick();
    expect(fake.callTimes).toEqual([0]);

    await advance(4_999);
    expect(fake.callTimes).toEqual([0]);
    expect(call.settled()).toBe(false);

    await advance(1);
    expect(fake.callTimes).toEqual([0, 5_000]);
    expect(call.value().message.content).toBe('hello');
    expect(retries.map(({ attempt, delayMs, error }) => ({ attempt, delayMs, code: error.code }))).toEqual([
      { attempt: 1, delayMs: 5_000, code: ProviderErrorCodes.rateLimited },
    ]);
  });

  it('backs off exponentially and gives up after maxAttempts, keeping the code and adding the attempts', async () => {
    const { fake, provider, retries, advance } = setup([unavailable(), unavailable(), unavailable(), 'never asked'], {
      retry: { maxAttempts: 3, baseDelayMs: 1_000 },
    });
    const call = track(provider.complete(request));
    await tick();
    await advance(1_000);
    await advance(2_000);

    expect(fake.callTimes).toEqual([0, 1_000, 3_000]);
    expect(retries.map((info) => info.delayMs)).toEqual([1_000, 2_000]);
    const error = call.error();
    expect(error).toBeInstanceOf(OperationalError);
    expect(error).toMatchObject({
      code: ProviderErrorCodes.unavailable,
      details: { provider: 'gemini', status: 503, attempts: 3, retryStop: 'attempts_exhausted' },
    });
    expect((error as Error).message).toBe('gemini is overloaded (503) (gave up after 3 attempts)');
  });

  it('stops when the next backoff would end past maxElapsedMs', async () => {
    const { fake, provider, advance } = setup([unavailable(), unavailable(), unavailable(), 'never asked'], {
      retry: { maxAttempts: 10, maxElapsedMs: 5_000, baseDelayMs: 1_000 },
    });
    const call = track(provider.complete(request));
    await tick();
    await advance(1_000);
    await advance(2_000);

    // The third failure, at 3 s, would wait 4 s: past the 5 s budget, so no wait starts.
    expect(fake.callTimes).toEqual([0, 1_000, 3_000]);
    expect(call.error()).toMatchObject({ code: ProviderErrorCodes.unavailable, details: { attempts: 3, retryStop: 'budget_exceeded' } });
  });

  it('fails at once, saying so, when the provider asks to wait longer than the time left', async () => {
    const { fake, provider, retries } = setup([rateLimited(30_000), 'never asked'], { retry: { maxElapsedMs: 10_000 } });
    const call = track(provider.complete(request));
    await tick();

    expect(fake.callTimes).toEqual([0]);
    expect(retries).toEqual([]);
    expect(call.error()).toMatchObject({ code: ProviderErrorCodes.rateLimited, details: { attempts: 1, retryAfterMs: 30_000 } });
    expect((call.error() as Error).message).toMatch(
      /the provider asked to wait 30000 ms, which would exceed the 10000 ms retry budget \(10000 ms left\)/,
    );
  });

  it.each([
    ['a bad request', providerError(ProviderErrorCodes.badRequest, 'bad tool schema', { provider: 'gemini', status: 400 })],
    ['an auth failure', providerError(ProviderErrorCodes.authFailed, 'bad key', { provider: 'gemini', status: 401 })],
    ['a transient error the provider marked shouldRetry: false', unavailable({ shouldRetry: false })],
    ['a bug', new TypeError('cannot read properties of undefined')],
  ])('does not retry %s and throws it unchanged', async (_, thrown) => {
    const { fake, provider, retries } = setup([thrown, 'never asked']);
    await expect(provider.complete(request)).rejects.toBe(thrown);
    expect(fake.callTimes).toEqual([0]);
    expect(retries).toEqual([]);
  });

  it('ends a wait aborted by the request signal with PROVIDER_CALL_CANCELLED and calls no more', async () => {
    const { fake, provider, advance } = setup([unavailable(), 'never asked'], { retry: { baseDelayMs: 1_000 } });
    const controller = new AbortController();
    const call = track(provider.complete({ ...request, signal: controller.signal }));
    await tick();
    await advance(500);
    expect(call.settled()).toBe(false);

    controller.abort();
    await tick();
    expect(call.error()).toMatchObject({ code: ProviderErrorCodes.cancelled, details: { provider: 'gemini', attempts: 1 } });
    await advance(10_000);
    expect(fake.callTimes).toEqual([0]);
  });

  it('does not start a wait when the signal is already aborted', async () => {
    const { fake, provider, retries } = setup([unavailable(), 'never asked']);
    const controller = new AbortController();
    controller.abort();
    await expect(provider.complete({ ...request, signal: controller.signal })).rejects.toMatchObject({ code: ProviderErrorCodes.cancelled });
    expect(fake.callTimes).toEqual([0]);
    expect(retries).toEqual([]);
  });
});

describe('RetryingProvider.stream', () => {
  async function collect(stream: AsyncIterable<CompletionStreamEvent>): Promise<{ deltas: string[]; final?: string; error?: unknown }> {
    const deltas: string[] = [];
    try {
      for await (const event of stream) {
        if (event.type === 'delta') deltas.push(event.content);
        else return { deltas, final: event.result.message.content };
      }
      return { deltas };
    } catch (error) {
      return { deltas, error };
    }
  }

  it('retries a stream that failed before its first event', async () => {
    const interrupted = providerError(ProviderErrorCodes.streamInterrupted, 'connection reset', { provider: 'gemini' });
    const { fake, provider, advance } = setup([[interrupted], ['Hel', 'lo']], { retry: { baseDelayMs: 1_000 } });
    const outcome = collect(provider.stream!(request));
    await tick();
    await advance(1_000);

    expect(await outcome).toEqual({ deltas: ['Hel', 'lo'], final: 'Hello' });
    expect(fake.callTimes).toEqual([0, 1_000]);
  });

  it('passes a failure after the first delta through unchanged instead of repeating text', async () => {
    const interrupted = providerError(ProviderErrorCodes.streamInterrupted, 'connection reset', { provider: 'gemini' });
    const { fake, provider, retries } = setup([['Hel', interrupted], ['Hel', 'lo']]);
    const outcome = await collect(provider.stream!(request));

    expect(outcome.deltas).toEqual(['Hel']);
    expect(outcome.error).toBe(interrupted);
    expect(fake.callTimes).toEqual([0]);
    expect(retries).toEqual([]);
  });

  it('is absent when the wrapped provider does not stream', () => {
    const plain: ChatProvider = { name: 'scripted', complete: async () => answer('x') };
    expect(new RetryingProvider(plain).stream).toBeUndefined();
  });
});
