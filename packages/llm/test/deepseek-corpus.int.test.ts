/**
 * The DeepSeek corpus (`shared/corpora/providers/deepseek_cases.json`, read in place): every
 * case is served byte for byte by a fake server and read by the real `openai` SDK through our
 * adapter configured as the `deepseek` provider; `expect` is checked: text, `reasoning_content`
 * kept out of the content (and never streamed as a delta), finish reason, usage with
 * `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens` and reasoning tokens, tool calls.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError, UserError } from '@maestro/runtime';
import { fakeResponseFromRecording, startFakeHttpServer, type FakeHttpServer, type RecordedWireResponse } from '@maestro/testing';
import type { CompletionRequest, CompletionResult, CompletionStreamEvent } from '../src/chat-provider.js';
import { ProviderErrorCodes } from '../src/provider-errors.js';
import { OpenAICompatibleProvider } from '../src/providers/openai-compatible/openai-compatible-provider.js';

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
  prompt_cache_hit_tokens?: number;
  reasoning_tokens?: number;
}

interface DeepSeekUsageExpect {
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
  hit_plus_miss_equals_prompt_tokens: boolean;
  reasoning_tokens: number | null;
}

interface CorpusCase extends RecordedWireResponse {
  name: string;
  kind: 'response' | 'stream';
  request_hint: { method: string; path: string; body?: Record<string, unknown> };
  expect: {
    text: string | null;
    finish_reason: string;
    usage: WireUsage | null;
    deepseek_usage?: DeepSeekUsageExpect | null;
    reasoning_content?: string;
    tool_calls?: Array<{ id: string; name: string; arguments: string }>;
  };
}

const CORPUS = join(__dirname, '../../../../shared/corpora/providers/deepseek_cases.json');
const cases = (JSON.parse(readFileSync(CORPUS, 'utf8')) as { cases: CorpusCase[] }).cases;

const API_KEY = 'sk-deepseek-SECRET-0123456789';
const passed = new Set<string>();

let server: FakeHttpServer;
beforeAll(async () => {
  server = await startFakeHttpServer();
});
afterAll(async () => {
  await server.close();
  console.log(`deepseek corpus: ${passed.size}/${cases.length} cases passed`);
});

function provider(): OpenAICompatibleProvider {
  // DeepSeek's base URL has no /v1: requests go to <base>/chat/completions.
  return new OpenAICompatibleProvider({ name: 'deepseek', apiKey: API_KEY, baseURL: server.baseUrl, keyVariable: 'DEEPSEEK_API_KEY', timeoutMs: 10_000, idleTimeoutMs: 5_000 });
}

function checkResult(c: CorpusCase, result: CompletionResult): void {
  const e = c.expect;
  expect(result.scripted).toBe(false);
  expect(result.message.content).toBe(e.text ?? '');
  const calls = e.tool_calls ?? [];
  expect(result.finishReason).toBe(e.finish_reason === 'length' ? 'length' : calls.length > 0 ? 'tool_calls' : 'stop');
  if (e.reasoning_content !== undefined) {
    expect(result.message.reasoning).toBe(e.reasoning_content);
    expect(result.message.content).not.toContain(e.reasoning_content);
  } else {
    expect(result.message.reasoning).toBeUndefined();
  }
  if (calls.length > 0) {
    expect(result.message.toolCalls).toEqual(calls.map((call) => ({ id: call.id, name: call.name, argumentsJson: call.arguments })));
  } else {
    expect(result.message.toolCalls).toBeUndefined();
  }
  const wire = e.usage;
  expect(wire).not.toBeNull();
  expect(result.usage.inputTokens).toBe(wire!.prompt_tokens);
  expect(result.usage.outputTokens).toBe(wire!.completion_tokens);
  expect(result.usage.outputTokens).toBe(wire!.total_tokens! - wire!.prompt_tokens!);
  expect(result.usage.reasoningTokens).toBe(wire!.completion_tokens_details?.reasoning_tokens ?? wire!.reasoning_tokens);
  const ds = e.deepseek_usage;
  if (ds !== undefined && ds !== null) {
    expect(result.usage.cachedInputTokens).toBe(ds.prompt_cache_hit_tokens);
    if (ds.hit_plus_miss_equals_prompt_tokens) expect(result.usage.inputTokens - (result.usage.cachedInputTokens ?? 0)).toBe(ds.prompt_cache_miss_tokens);
    expect(result.usage.reasoningTokens).toBe(ds.reasoning_tokens ?? undefined);
  } else {
    // Azure-hosted DeepSeek reports no cache counts: none are invented.
    expect(result.usage.cachedInputTokens).toBe(wire!.prompt_tokens_details?.cached_tokens);
  }
}

describe('deepseek corpus', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const model = typeof c.request_hint.body?.['model'] === 'string' ? (c.request_hint.body['model'] as string) : 'deepseek-chat';
    const request: CompletionRequest = { model, messages: [{ role: 'user', content: `corpus case ${c.name}` }], tools: [] };
    server.enqueue(fakeResponseFromRecording(c));
    let result: CompletionResult | undefined;
    const deltas: string[] = [];
    if (c.kind === 'response') {
      result = await provider().complete(request);
    } else {
      for await (const event of provider().stream(request) as AsyncIterable<CompletionStreamEvent>) {
        if (event.type === 'delta') deltas.push(event.content);
        else result = event.result;
      }
      // Only content is streamed as deltas; the reasoning phase yields none.
      expect(deltas.join('')).toBe(c.expect.text ?? '');
    }
    const sent = server.requests.at(-1)!;
    if (c.request_hint.path === '/chat/completions') expect(sent.url).toBe('/chat/completions');
    expect(sent.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    checkResult(c, result!);
    passed.add(c.name);
  });
});

describe('deepseek specifics', () => {
  it('sends max_tokens and passes reasoning_content back on tool-call turns only', async () => {
    server.enqueue({ body: { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } } });
    await provider().complete({
      model: 'deepseek-reasoner',
      maxOutputTokens: 512,
      tools: [{ name: 'weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [
        { role: 'user', content: 'weather in SF?' },
        { role: 'assistant', content: '', reasoning: 'I should call weather.', toolCalls: [{ id: 'call_0', name: 'weather', argumentsJson: '{"city":"SF"}' }] },
        { role: 'tool', content: '{"temp":7}', toolCallId: 'call_0', name: 'weather' },
        { role: 'assistant', content: 'It is 7°C.', reasoning: 'The tool said 7.' },
        { role: 'user', content: 'thanks' },
      ],
    });
    const body = server.requests.at(-1)!.body as { max_tokens?: number; max_completion_tokens?: number; messages: Array<Record<string, unknown>>; tools: unknown[] };
    expect(body.max_tokens).toBe(512);
    expect(body.max_completion_tokens).toBeUndefined();
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      reasoning_content: 'I should call weather.',
      tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'weather', arguments: '{"city":"SF"}' } }],
    });
    expect(body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_0', content: '{"temp":7}' });
    expect(body.messages[3]).toEqual({ role: 'assistant', content: 'It is 7°C.' });
    expect(body.tools).toEqual([{ type: 'function', function: { name: 'weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]);
  });

  it('402 Insufficient Balance is PROVIDER_INSUFFICIENT_BALANCE, not retried', async () => {
    server.enqueue({ status: 402, body: { error: { message: 'Insufficient Balance', type: 'unknown_error', param: null, code: 'invalid_request_error' } } });
    const err = await provider().complete({ model: 'deepseek-chat', tools: [], messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe(ProviderErrorCodes.insufficientBalance);
    expect((err as UserError).message).toContain('the deepseek account has insufficient balance');
    expect((err as UserError).message).not.toContain(API_KEY);
  });

  it('finish_reason insufficient_system_resource is PROVIDER_UNAVAILABLE (retryable)', async () => {
    server.enqueue({ sseEvents: [
      `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'par' }, finish_reason: null }] })}`,
      `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: '' }, finish_reason: 'insufficient_system_resource' }] })}`,
      'data: [DONE]',
    ] });
    let error: unknown;
    try {
      for await (const _event of provider().stream({ model: 'deepseek-chat', tools: [], messages: [{ role: 'user', content: 'hi' }] }) as AsyncIterable<CompletionStreamEvent>) {
        // drain
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OperationalError);
    expect((error as OperationalError).code).toBe(ProviderErrorCodes.unavailable);
  });
});
