import { ManualClock, OperationalError } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionStreamEvent } from '../chat-provider.js';
import { request as baseRequest, StepProvider, type Step } from '../../test/step-provider.js';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';
import {
  CircuitBreaker,
  CircuitBreakerProvider,
  CircuitBreakerRegistry,
  compileBreakerOptions,
  type CircuitStateChange,
} from './circuit-breaker.js';

/** A promise resolved from outside, to hold a call in flight. */
function deferred(): { promise: Promise<string>; resolve: (value: string) => void } {
  let resolve!: (value: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

const request: CompletionRequest = { ...baseRequest, model: 'gemini-2.5-pro' };
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const unavailable = () => providerError(ProviderErrorCodes.unavailable, 'gemini is overloaded (503)', { provider: 'gemini', status: 503 });
const badRequest = () => providerError(ProviderErrorCodes.badRequest, 'bad tool schema', { provider: 'gemini', status: 400 });

function setup(steps: Step[], failureThreshold = 3) {
  const clock = new ManualClock(Date.parse('2025-06-01T12:00:00Z'));
  const changes: CircuitStateChange[] = [];
  const breaker = new CircuitBreaker('gemini', {
    clock,
    breaker: { failureThreshold, openMs: 30_000 },
    onStateChange: (change) => changes.push(change),
  });
  const fake = new StepProvider('gemini', steps);
  const provider = new CircuitBreakerProvider(fake, breaker);
  const transitions = () => changes.map(({ from, to }) => `${from}->${to}`);
  return { clock, breaker, fake, provider, transitions };
}

async function openBreaker(provider: ChatProvider, failures: number): Promise<void> {
  for (let i = 0; i < failures; i++) await expect(provider.complete(request)).rejects.toMatchObject({ code: ProviderErrorCodes.unavailable });
}

describe('CircuitBreaker', () => {
  it('opens after failureThreshold transient failures in a row and then fails fast, naming the provider and when it tries again', async () => {
    const { clock, breaker, fake, provider, transitions } = setup([unavailable(), unavailable(), unavailable(), 'never asked']);
    await openBreaker(provider, 3);
    expect(breaker.state()).toBe('open');
    expect(transitions()).toEqual(['closed->open']);

    clock.advance(10_000);
    const refused = provider.complete(request);
    await expect(refused).rejects.toBeInstanceOf(OperationalError);
    await expect(refused).rejects.toMatchObject({
      code: ProviderErrorCodes.circuitOpen,
      message: expect.stringMatching(/^gemini is failing .*tried again in 20 s \(at 2025-06-01T12:00:30\.000Z\)$/),
      details: { provider: 'gemini', retryAfterMs: 20_000 },
    });
    expect(fake.calls).toHaveLength(3);
  });

  it('counts neither user errors nor resets on them, but resets on a success', async () => {
    const counted = setup([unavailable(), unavailable(), badRequest(), unavailable()]);
    for (let i = 0; i < 4; i++) await expect(counted.provider.complete(request)).rejects.toThrow();
    expect(counted.breaker.state()).toBe('open');

    const reset = setup([unavailable(), unavailable(), 'fine', unavailable(), unavailable()]);
    for (let i = 0; i < 5; i++) await reset.provider.complete(request).catch(() => undefined);
    expect(reset.breaker.state()).toBe('closed');
  });

  it('lets one trial call through after openMs and closes when it succeeds', async () => {
    const trial = deferred();
    const { clock, breaker, fake, provider, transitions } = setup([unavailable(), unavailable(), unavailable(), trial.promise, 'after']);
    await openBreaker(provider, 3);

    clock.advance(29_999);
    await expect(provider.complete(request)).rejects.toMatchObject({ code: ProviderErrorCodes.circuitOpen });
    clock.advance(1);
    const trialCall = provider.complete(request);
    await tick();
    expect(breaker.state()).toBe('half_open');
    await expect(provider.complete(request)).rejects.toMatchObject({
      code: ProviderErrorCodes.circuitOpen,
      message: expect.stringContaining('a trial call is checking whether it is back'),
    });
    expect(fake.calls).toHaveLength(4);

    trial.resolve('back');
    await expect(trialCall).resolves.toMatchObject({ message: { content: 'back' } });
    expect(breaker.state()).toBe('closed');
    await expect(provider.complete(request)).resolves.toMatchObject({ message: { content: 'after' } });
    expect(transitions()).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
  });

  it('opens again for a full openMs when the trial fails', async () => {
    const { clock, breaker, fake, provider, transitions } = setup([unavailable(), unavailable(), unavailable(), unavailable(), 'back']);
    await openBreaker(provider, 3);
    clock.advance(30_000);
    await expect(provider.complete(request)).rejects.toMatchObject({ code: ProviderErrorCodes.unavailable });
    expect(breaker.state()).toBe('open');

    clock.advance(29_000);
    await expect(provider.complete(request)).rejects.toMatchObject({ code: ProviderErrorCodes.circuitOpen });
    clock.advance(1_000);
    await expect(provider.complete(request)).resolves.toMatchObject({ message: { content: 'back' } });
    expect(fake.calls).toHaveLength(5);
    expect(transitions()).toEqual(['closed->open', 'open->half_open', 'half_open->open', 'open->half_open', 'half_open->closed']);
  });

  it('frees the trial slot when the trial ends in a user error, staying half-open', async () => {
    const { clock, breaker, provider } = setup([unavailable(), unavailable(), unavailable(), badRequest(), 'back']);
    await openBreaker(provider, 3);
    clock.advance(30_000);
    await expect(provider.complete(request)).rejects.toMatchObject({ code: ProviderErrorCodes.badRequest });
    expect(breaker.state()).toBe('half_open');
    await expect(provider.complete(request)).resolves.toMatchObject({ message: { content: 'back' } });
    expect(breaker.state()).toBe('closed');
  });

  it('ignores the outcome of a call that started before the breaker opened', async () => {
    const late = deferred();
    const { breaker, provider } = setup([late.promise, unavailable()], 1);
    const slowCall = provider.complete(request);
    await expect(provider.complete(request)).rejects.toMatchObject({ code: ProviderErrorCodes.unavailable });
    expect(breaker.state()).toBe('open');

    late.resolve('late');
    await slowCall;
    expect(breaker.state()).toBe('open');
  });

  it('counts a stream as one call: a stream that fails counts, one that reaches its final event resets', async () => {
    const { breaker, provider } = setup([unavailable(), 'ok', unavailable(), unavailable()], 2);
    const drain = async () => {
      for await (const _ of provider.stream!(request));
    };
    await expect(drain()).rejects.toMatchObject({ code: ProviderErrorCodes.unavailable });
    await drain();
    await expect(drain()).rejects.toThrow();
    expect(breaker.state()).toBe('closed');
    await expect(drain()).rejects.toThrow();
    expect(breaker.state()).toBe('open');
  });

  it('rejects options that make no sense', () => {
    expect(compileBreakerOptions()).toEqual({ failureThreshold: 5, openMs: 30_000 });
    expect(() => compileBreakerOptions({ failureThreshold: 0 })).toThrow(/breaker\.failureThreshold/);
  });
});

describe('CircuitBreakerRegistry', () => {
  it('gives every model of a provider the same breaker, so one outage stops them all', async () => {
    const clock = new ManualClock();
    const registry = new CircuitBreakerRegistry({ clock, breaker: { failureThreshold: 2 } });
    const pro = new StepProvider('gemini', [unavailable(), unavailable()]);
    const flash = new StepProvider('gemini', ['never asked']);
    const other = new StepProvider('deepseek', ['answered']);
    const guardedPro = new CircuitBreakerProvider(pro, registry.get('gemini'));
    const guardedFlash = new CircuitBreakerProvider(flash, registry.get('gemini'));
    const guardedOther = new CircuitBreakerProvider(other, registry.get('deepseek'));

    await openBreaker(guardedPro, 2);
    await expect(guardedFlash.complete(request)).rejects.toMatchObject({ code: ProviderErrorCodes.circuitOpen });
    expect(flash.calls).toHaveLength(0);
    await expect(guardedOther.complete(request)).resolves.toMatchObject({ message: { content: 'answered' } });
    expect(registry.states()).toEqual({ gemini: 'open', deepseek: 'closed' });
  });
});
