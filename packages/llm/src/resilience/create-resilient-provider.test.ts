import { ManualClock } from '@maestro/runtime';
import { request, StepProvider } from '../../test/step-provider.js';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';
import { CircuitBreakerRegistry } from './circuit-breaker.js';
import { createResilientProvider, type ResilienceEvent } from './create-resilient-provider.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const unavailable = (provider: string) => providerError(ProviderErrorCodes.unavailable, `${provider} is down`, { provider, status: 503 });

/** Lets `work` run, moving the clock 100 ms whenever it is stuck waiting, until it settles. */
async function run<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let step = 0; step < 1_000 && !settled; step++) {
    await tick();
    if (!settled) clock.advance(100);
  }
  return work;
}

const describeEvent = (event: ResilienceEvent): string => {
  switch (event.type) {
    case 'retry':
      return `retry ${event.spec} after ${event.delayMs} ms`;
    case 'circuit':
      return `${event.provider} ${event.from}->${event.to}`;
    case 'fallback':
      return `fallback ${event.from} -> ${event.to}`;
  }
};

describe('createResilientProvider', () => {
  it("uses the fallback while the primary's breaker is open, and the primary again once it closes", async () => {
    const clock = new ManualClock();
    const gemini = new StepProvider('gemini', [unavailable('gemini'), unavailable('gemini'), unavailable('gemini'), unavailable('gemini'), 'gemini is back'], clock);
    const deepseek = new StepProvider('deepseek', ['deepseek 1', 'deepseek 2', 'deepseek 3'], clock);
    const events: string[] = [];
    const provider = createResilientProvider({
      entries: [
        { spec: 'gemini:gemini-2.5-pro', model: 'gemini-2.5-pro', provider: gemini },
        { spec: 'deepseek:deepseek-chat', model: 'deepseek-chat', provider: deepseek },
      ],
      clock,
      retry: { maxAttempts: 2, baseDelayMs: 100 },
      breaker: { failureThreshold: 2, openMs: 30_000 },
      onEvent: (event) => events.push(describeEvent(event)),
    });

    // Two calls each use up gemini's retries (one failure each for the breaker), then deepseek answers.
    await expect(run(clock, provider.complete(request))).resolves.toMatchObject({ servedBy: 'deepseek:deepseek-chat' });
    await expect(run(clock, provider.complete(request))).resolves.toMatchObject({ servedBy: 'deepseek:deepseek-chat' });
    expect(gemini.calls).toEqual([
      { at: 0, model: 'gemini-2.5-pro' },
      { at: 100, model: 'gemini-2.5-pro' },
      { at: 100, model: 'gemini-2.5-pro' },
      { at: 200, model: 'gemini-2.5-pro' },
    ]);

    // Open: gemini is not asked and no time is spent waiting for it.
    const fast = await provider.complete(request);
    expect(fast).toMatchObject({ message: { content: 'deepseek 3' }, servedBy: 'deepseek:deepseek-chat', fallbackFrom: 'gemini:gemini-2.5-pro' });
    expect(gemini.calls).toHaveLength(4);
    expect(clock.now()).toBe(200);

    clock.advance(30_000);
    const back = await provider.complete(request);
    expect(back).toMatchObject({ message: { content: 'gemini is back' }, servedBy: 'gemini:gemini-2.5-pro' });
    expect(back.fallbackFrom).toBeUndefined();
    expect(deepseek.calls.map(({ model }) => model)).toEqual(['deepseek-chat', 'deepseek-chat', 'deepseek-chat']);
    expect(events).toEqual([
      'retry gemini:gemini-2.5-pro after 100 ms',
      'fallback gemini:gemini-2.5-pro -> deepseek:deepseek-chat',
      'retry gemini:gemini-2.5-pro after 100 ms',
      'gemini closed->open',
      'fallback gemini:gemini-2.5-pro -> deepseek:deepseek-chat',
      'fallback gemini:gemini-2.5-pro -> deepseek:deepseek-chat',
      'gemini open->half_open',
      'gemini half_open->closed',
    ]);
  });

  it('counts a call that succeeded on a retry as a success for the breaker', async () => {
    const clock = new ManualClock();
    const gemini = new StepProvider('gemini', [unavailable('gemini'), 'second try', 'next call'], clock);
    const breakers = new CircuitBreakerRegistry({ clock, breaker: { failureThreshold: 1 } });
    const provider = createResilientProvider({
      entries: [{ spec: 'gemini:gemini-2.5-flash', model: 'gemini-2.5-flash', provider: gemini }],
      clock,
      retry: { maxAttempts: 2, baseDelayMs: 100 },
      breakers,
    });

    await expect(run(clock, provider.complete(request))).resolves.toMatchObject({ message: { content: 'second try' } });
    expect(breakers.get('gemini').state()).toBe('closed');
    await expect(provider.complete(request)).resolves.toMatchObject({ message: { content: 'next call' } });
  });

  it('skips every model of a provider whose shared breaker is open, and lists each model tried when all fail', async () => {
    const clock = new ManualClock();
    const gemini = new StepProvider('gemini', [unavailable('gemini'), 'never asked'], clock);
    const deepseek = new StepProvider('deepseek', ['deepseek answers', unavailable('deepseek')], clock);
    const provider = createResilientProvider({
      entries: [
        { spec: 'gemini:gemini-2.5-pro', model: 'gemini-2.5-pro', provider: gemini },
        { spec: 'gemini:gemini-2.5-flash', model: 'gemini-2.5-flash', provider: gemini },
        { spec: 'deepseek:deepseek-chat', model: 'deepseek-chat', provider: deepseek },
      ],
      clock,
      retry: { maxAttempts: 1 },
      breakers: new CircuitBreakerRegistry({ clock, breaker: { failureThreshold: 1 } }),
    });

    await expect(provider.complete(request)).resolves.toMatchObject({ servedBy: 'deepseek:deepseek-chat', fallbackFrom: 'gemini:gemini-2.5-pro' });
    expect(gemini.calls.map(({ model }) => model)).toEqual(['gemini-2.5-pro']);

    await expect(provider.complete(request)).rejects.toMatchObject({
      code: ProviderErrorCodes.circuitOpen,
      details: {
        tried: [
          { spec: 'gemini:gemini-2.5-pro', code: ProviderErrorCodes.circuitOpen },
          { spec: 'gemini:gemini-2.5-flash', code: ProviderErrorCodes.circuitOpen },
          { spec: 'deepseek:deepseek-chat', code: ProviderErrorCodes.unavailable },
        ],
      },
    });
    expect(gemini.calls).toHaveLength(1);
  });

  it('refuses breaker options next to a registry that already has its own', () => {
    const clock = new ManualClock();
    expect(() =>
      createResilientProvider({
        entries: [{ spec: 'scripted', model: 'scripted', provider: new StepProvider('scripted', [], clock) }],
        breaker: { failureThreshold: 1 },
        breakers: new CircuitBreakerRegistry(),
      }),
    ).toThrow(/breaker: give either breaker options or a breakers registry/);
  });
});
