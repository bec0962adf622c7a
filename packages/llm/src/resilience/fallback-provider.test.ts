import { UserError } from '@maestro/runtime';
import type { ChatProvider, CompletionResult, CompletionStreamEvent } from '../chat-provider.js';
import { answer, request, StepProvider, type Step } from '../../test/step-provider.js';
import { ProviderErrorCodes, providerError, type ProviderErrorCode } from '../provider-errors.js';
import { FallbackProvider, type FallbackEntry, type FallbackInfo } from './fallback-provider.js';

const error = (code: ProviderErrorCode, provider = 'gemini') => providerError(code, `${provider} says ${code}`, { provider });

function setup(primarySteps: Step[], secondarySteps: Step[]) {
  const primary = new StepProvider('gemini', primarySteps);
  const secondary = new StepProvider('deepseek', secondarySteps);
  const entries: FallbackEntry[] = [
    { spec: 'gemini:gemini-2.5-pro', model: 'gemini-2.5-pro', provider: primary },
    { spec: 'deepseek:deepseek-chat', model: 'deepseek-chat', provider: secondary },
  ];
  const fallbacks: FallbackInfo[] = [];
  const provider = new FallbackProvider(entries, { onFallback: (info) => fallbacks.push(info) });
  return { primary, secondary, provider, fallbacks };
}

async function collect(stream: AsyncIterable<CompletionStreamEvent>): Promise<{ deltas: string[]; final?: CompletionResult; error?: unknown }> {
  const deltas: string[] = [];
  try {
    for await (const event of stream) {
      if (event.type === 'delta') deltas.push(event.content);
      else return { deltas, final: event.result };
    }
    return { deltas };
  } catch (error) {
    return { deltas, error };
  }
}

describe('FallbackProvider.complete', () => {
  it('answers from the primary, with its own model, and says so', async () => {
    const { primary, secondary, provider } = setup(['from gemini'], []);
    const result = await provider.complete(request);
    expect(result).toMatchObject({ message: { content: 'from gemini' }, servedBy: 'gemini:gemini-2.5-pro' });
    expect(result.fallbackFrom).toBeUndefined();
    expect(primary.models).toEqual(['gemini-2.5-pro']);
    expect(secondary.models).toEqual([]);
  });

  it('asks the next model, with its own model id, when the primary fails transiently, and says who answered', async () => {
    const outage = error(ProviderErrorCodes.unavailable);
    const { secondary, provider, fallbacks } = setup([outage], ['from deepseek']);
    await expect(provider.complete(request)).resolves.toMatchObject({
      message: { content: 'from deepseek' },
      servedBy: 'deepseek:deepseek-chat',
      fallbackFrom: 'gemini:gemini-2.5-pro',
    });
    expect(secondary.models).toEqual(['deepseek-chat']);
    expect(fallbacks).toEqual([{ from: 'gemini:gemini-2.5-pro', to: 'deepseek:deepseek-chat', error: outage }]);
  });

  it.each([
    ProviderErrorCodes.circuitOpen,
    ProviderErrorCodes.authFailed,
    ProviderErrorCodes.keyMissing,
    ProviderErrorCodes.insufficientBalance,
    ProviderErrorCodes.modelNotFound,
  ])('falls back when the primary cannot serve: %s', async (code) => {
    const { provider } = setup([error(code)], ['from deepseek']);
    await expect(provider.complete(request)).resolves.toMatchObject({ servedBy: 'deepseek:deepseek-chat' });
  });

  it.each([ProviderErrorCodes.contextTooLong, ProviderErrorCodes.badRequest, ProviderErrorCodes.refused, ProviderErrorCodes.cancelled])(
    'throws %s from the primary as it is, without asking another model',
    async (code) => {
      const thrown = error(code);
      const { secondary, provider } = setup([thrown], ['never asked']);
      await expect(provider.complete(request)).rejects.toBe(thrown);
      expect(secondary.models).toEqual([]);
    },
  );

  it("throws the primary's error, listing every model tried, when all fail", async () => {
    const { provider } = setup([error(ProviderErrorCodes.authFailed)], [error(ProviderErrorCodes.rateLimited, 'deepseek')]);
    const failure = await provider.complete(request).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UserError);
    expect(failure).toMatchObject({
      code: ProviderErrorCodes.authFailed,
      reason: 'precondition',
      message: 'gemini says PROVIDER_AUTH_FAILED (every model failed: gemini:gemini-2.5-pro PROVIDER_AUTH_FAILED, deepseek:deepseek-chat PROVIDER_RATE_LIMITED)',
      details: {
        provider: 'gemini',
        tried: [
          { spec: 'gemini:gemini-2.5-pro', code: ProviderErrorCodes.authFailed },
          { spec: 'deepseek:deepseek-chat', code: ProviderErrorCodes.rateLimited },
        ],
      },
    });
  });

  it("throws the next model's request error as it is when that is why it failed", async () => {
    const tooLong = error(ProviderErrorCodes.contextTooLong, 'deepseek');
    const { provider } = setup([error(ProviderErrorCodes.unavailable)], [tooLong]);
    await expect(provider.complete(request)).rejects.toBe(tooLong);
  });

  it('does not ask the next model once the request is cancelled', async () => {
    const controller = new AbortController();
    const primary: ChatProvider = {
      name: 'gemini',
      complete: async () => {
        controller.abort();
        throw error(ProviderErrorCodes.timeout);
      },
    };
    const secondary = new StepProvider('deepseek', ['never asked']);
    const provider = new FallbackProvider([
      { spec: 'gemini:gemini-2.5-pro', model: 'gemini-2.5-pro', provider: primary },
      { spec: 'deepseek:deepseek-chat', model: 'deepseek-chat', provider: secondary },
    ]);
    await expect(provider.complete({ ...request, signal: controller.signal })).rejects.toMatchObject({ code: ProviderErrorCodes.cancelled });
    expect(secondary.models).toEqual([]);
  });

  it('needs at least one model', () => {
    expect(() => new FallbackProvider([])).toThrow(/entries: a fallback chain needs at least one model/);
  });
});

describe('FallbackProvider.stream', () => {
  it('falls back when the primary fails before its first event', async () => {
    const { provider } = setup([[error(ProviderErrorCodes.unavailable)]], [['Hi', ' there']]);
    const outcome = await collect(provider.stream!(request));
    expect(outcome.deltas).toEqual(['Hi', ' there']);
    expect(outcome.final).toMatchObject({ message: { content: 'Hi there' }, servedBy: 'deepseek:deepseek-chat', fallbackFrom: 'gemini:gemini-2.5-pro' });
  });

  it("passes a failure after the primary's first delta through, never mixing two models' text", async () => {
    const cut = error(ProviderErrorCodes.streamInterrupted);
    const { secondary, provider } = setup([['Hel', cut]], [['other text']]);
    const outcome = await collect(provider.stream!(request));
    expect(outcome.deltas).toEqual(['Hel']);
    expect(outcome.error).toBe(cut);
    expect(secondary.models).toEqual([]);
  });

  it("asks a model that does not stream with complete, as one final event", async () => {
    const primary = new StepProvider('gemini', [[error(ProviderErrorCodes.unavailable)]]);
    const plain: ChatProvider = { name: 'scripted', complete: async () => answer('scripted reply') };
    const provider = new FallbackProvider([
      { spec: 'gemini:gemini-2.5-pro', model: 'gemini-2.5-pro', provider: primary },
      { spec: 'scripted', model: 'scripted', provider: plain },
    ]);
    const outcome = await collect(provider.stream!(request));
    expect(outcome).toEqual({ deltas: [], final: expect.objectContaining({ servedBy: 'scripted', message: { role: 'assistant', content: 'scripted reply' } }) });
  });
});
