/**
 * The OpenAI Chat Completions corpus (`shared/corpora/providers/openai_chat_cases.json`, read in
 * place): every case is served byte for byte by a fake server (raw_body when recorded, else the
 * SSE events with their separator, else the JSON body; with its status and headers) and read by
 * the real `openai` SDK through our adapter; the case's `expect` is then checked against what the
 * adapter returned or threw.
 *
 * Also here: cancellation, the idle and whole-call timeouts, a cut stream, key redaction, and
 * the wire round trip of scripted replies through `startFakeOpenAIServer`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError, UserError } from '@maestro/runtime';
import {
  fakeResponseFromRecording,
  startFakeHttpServer,
  startFakeOpenAIServer,
  type FakeHttpServer,
  type RecordedWireResponse,
} from '@maestro/testing';
import type { CompletionRequest, CompletionResult, CompletionStreamEvent } from '../src/chat-provider.js';
import { ProviderErrorCodes } from '../src/provider-errors.js';
import { OpenAICompatibleProvider } from '../src/providers/openai-compatible/openai-compatible-provider.js';
import { ScriptedProvider, parseScript } from '../src/scripted-provider.js';
import { countTokens } from '../src/token-counter.js';

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
  prompt_cache_hit_tokens?: number;
  reasoning_tokens?: number;
}

interface CorpusCase extends RecordedWireResponse {
  name: string;
  kind: 'response' | 'stream' | 'error';
  request_hint: { method: string; path: string; body?: Record<string, unknown> };
  sequence?: RecordedWireResponse[];
  expect: Record<string, unknown>;
}

const CORPUS = join(__dirname, '../../../../shared/corpora/providers/openai_chat_cases.json');
const cases = (JSON.parse(readFileSync(CORPUS, 'utf8')) as { cases: CorpusCase[] }).cases;

const API_KEY = 'sk-corpus-SECRET-0123456789abcdef';
const passed = new Set<string>();

let server: FakeHttpServer;
beforeAll(async () => {
  server = await startFakeHttpServer();
});
afterAll(async () => {
  await server.close();
  console.log(`openai corpus: ${passed.size}/${cases.length} cases passed`);
});

function provider(overrides: Partial<ConstructorParameters<typeof OpenAICompatibleProvider>[0]> = {}): OpenAICompatibleProvider {
  return new OpenAICompatibleProvider({
    name: 'openai',
    apiKey: API_KEY,
    baseURL: `${server.baseUrl}/v1`,
    keyVariable: 'OPENAI_API_KEY',
    timeoutMs: 10_000,
    idleTimeoutMs: 5_000,
    ...overrides,
  });
}

function requestFor(c: CorpusCase): CompletionRequest {
  const model = typeof c.request_hint.body?.['model'] === 'string' ? (c.request_hint.body['model'] as string) : 'gpt-4o';
  return { model, messages: [{ role: 'user', content: `corpus case ${c.name}` }], tools: [] };
}

/** Runs a stream to its end; returns the deltas, and the result or the error. */
async function drain(p: OpenAICompatibleProvider, request: CompletionRequest) {
  const deltas: string[] = [];
  let result: CompletionResult | undefined;
  let error: unknown;
  try {
    for await (const event of p.stream(request) as AsyncIterable<CompletionStreamEvent>) {
      if (event.type === 'delta') deltas.push(event.content);
      else result = event.result;
    }
  } catch (err) {
    error = err;
  }
  return { deltas, result, error };
}

async function completeOrError(p: OpenAICompatibleProvider, request: CompletionRequest) {
  try {
    return { result: await p.complete(request), error: undefined };
  } catch (err) {
    return { result: undefined, error: err };
  }
}

/** Every failure is one of ours, and never shows the key. */
function expectProviderError(err: unknown): OperationalError | UserError {
  expect(err instanceof OperationalError || err instanceof UserError).toBe(true);
  const e = err as OperationalError | UserError;
  expect(e.message).not.toContain(API_KEY);
  expect(JSON.stringify(e.details)).not.toContain(API_KEY);
  expect(String((e as { cause?: { message?: string } }).cause?.message ?? '')).not.toContain(API_KEY);
  return e;
}

/** Our finish reason for the wire one (a forced tool call ends with "stop" but has calls). */
function expectedFinish(c: CorpusCase): string {
  const wire = c.expect['finish_reason'];
  const calls = c.expect['tool_calls'] as unknown[] | undefined;
  if (wire === 'length') return 'length';
  return calls !== undefined && calls.length > 0 ? 'tool_calls' : 'stop';
}

/** Checks `result` against the case's `expect` (text, finish, usage, tool calls, reasoning). */
function checkResult(c: CorpusCase, result: CompletionResult, request: CompletionRequest): void {
  const e = c.expect;
  expect(result.scripted).toBe(false);
  expect(result.message.role).toBe('assistant');
  expect(result.message.content).toBe(e['text'] ?? '');
  expect(result.finishReason).toBe(expectedFinish(c));
  if (e['parsed'] !== undefined) expect(JSON.parse(result.message.content)).toEqual(e['parsed']);
  if (typeof e['reasoning_content'] === 'string') {
    expect(result.message.reasoning).toBe(e['reasoning_content']);
    expect(result.message.content).not.toContain(e['reasoning_content']);
  } else {
    expect(result.message.reasoning).toBeUndefined();
  }
  const calls = (e['tool_calls'] ?? e['tool_calls_expected_by_source']) as
    | Array<{ id: string; name: string; arguments: string; arguments_json?: unknown }>
    | undefined;
  if (calls !== undefined) {
    expect(result.message.toolCalls?.map(({ id, name, argumentsJson }) => ({ id, name, argumentsJson }))).toEqual(
      calls.map((call) => ({ id: call.id, name: call.name, argumentsJson: call.arguments })),
    );
    for (const [i, call] of calls.entries()) {
      if (call.arguments_json !== undefined) expect(JSON.parse(result.message.toolCalls?.[i]?.argumentsJson ?? '')).toEqual(call.arguments_json);
    }
  } else {
    expect(result.message.toolCalls).toBeUndefined();
  }
  checkUsage(e['usage'] as WireUsage | null | undefined, result, request);
}

function checkUsage(wire: WireUsage | null | undefined, result: CompletionResult, request: CompletionRequest): void {
  const usage = result.usage;
  if (wire === null || wire === undefined) {
    // No usage on the wire: the adapter estimates it with o200k rather than reporting zeros.
    const calls = result.message.toolCalls ?? [];
    expect(usage.outputTokens).toBe(
      countTokens(result.message.content) +
        countTokens(result.message.reasoning ?? '') +
        calls.reduce((n, call) => n + countTokens(call.name) + countTokens(call.argumentsJson), 0),
    );
    expect(usage.inputTokens).toBeGreaterThan(countTokens(request.messages[0]?.content ?? ''));
    expect(usage.cachedInputTokens).toBeUndefined();
    return;
  }
  expect(usage.inputTokens).toBe(wire.prompt_tokens);
  // outputTokens includes reasoning: total − prompt for every provider (xAI leaves reasoning
  // out of completion_tokens but not out of total_tokens).
  expect(usage.outputTokens).toBe(wire.total_tokens !== undefined ? wire.total_tokens - (wire.prompt_tokens ?? 0) : wire.completion_tokens);
  expect(usage.cachedInputTokens).toBe(wire.prompt_tokens_details?.cached_tokens ?? wire.prompt_cache_hit_tokens);
  expect(usage.reasoningTokens).toBe(wire.completion_tokens_details?.reasoning_tokens ?? wire.reasoning_tokens);
}

/** The SDK's own retry rule (openai-node `shouldRetry`), which our error kinds follow. */
function sdkWouldRetry(status: number, headers: Record<string, string> = {}): boolean {
  const header = Object.entries(headers).find(([name]) => name.toLowerCase() === 'x-should-retry')?.[1];
  if (header === 'true') return true;
  if (header === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Our code for an SDK error class, given whether the SDK would retry. */
function expectedCode(errorClass: string, status: number, retryable: boolean, providerCode: unknown): string {
  const statusRetryable = status === 408 || status === 409 || status === 429 || status >= 500;
  if (retryable && !statusRetryable) return ProviderErrorCodes.unavailable;
  if (!retryable && statusRetryable) return ProviderErrorCodes.badRequest;
  switch (errorClass) {
    case 'AuthenticationError':
    case 'PermissionDeniedError':
      return ProviderErrorCodes.authFailed;
    case 'NotFoundError':
      return ProviderErrorCodes.modelNotFound;
    case 'RateLimitError':
      return ProviderErrorCodes.rateLimited;
    case 'InternalServerError':
      return ProviderErrorCodes.unavailable;
    case 'BadRequestError':
      return providerCode === 'context_length_exceeded' ? ProviderErrorCodes.contextTooLong : ProviderErrorCodes.badRequest;
    default:
      throw new Error(`corpus test: no mapping for ${errorClass}`);
  }
}

/** An HTTP error case: one attempt (maxRetries 0), mapped code, status, provider words, retry-after. */
function checkHttpError(c: CorpusCase, err: unknown, status: number, headers: Record<string, string> | undefined): void {
  const e = expectProviderError(err);
  const retryable = sdkWouldRetry(status, headers);
  expect(e instanceof OperationalError).toBe(retryable);
  expect(e.details?.['status']).toBe(status);
  expect(e.details?.['provider']).toBe('openai');
  const errorClass = c.expect['error_class'];
  if (typeof errorClass === 'string') expect(e.code).toBe(expectedCode(errorClass, status, retryable, c.expect['error_code']));
  if (typeof c.expect['error_message'] === 'string') expect(e.message).toContain(c.expect['error_message']);
  if (c.expect['error_code'] !== undefined) expect(e.details?.['providerCode']).toBe(c.expect['error_code'] ?? undefined);
  if (c.expect['error_type'] !== undefined) expect(e.details?.['providerType']).toBe(c.expect['error_type'] ?? undefined);
  if (c.expect['error_param'] !== undefined) expect(e.details?.['param']).toBe(c.expect['error_param'] ?? undefined);
  if (e.code === ProviderErrorCodes.authFailed) {
    expect(e.message).toContain('the openai provider rejected the key in OPENAI_API_KEY');
    expect(e.details?.['keyVariable']).toBe('OPENAI_API_KEY');
  }
  if (typeof c.expect['retry_after_seconds'] === 'number') expect(e.details?.['retryAfterMs']).toBe(c.expect['retry_after_seconds'] * 1000);
  const header = (name: string) => Object.entries(headers ?? {}).find(([h]) => h.toLowerCase() === name)?.[1];
  const retryAfterMs = header('retry-after-ms');
  const retryAfter = header('retry-after');
  if (retryAfterMs !== undefined) expect(e.details?.['retryAfterMs']).toBe(Number(retryAfterMs));
  else if (retryAfter !== undefined) expect(e.details?.['retryAfterMs']).toBe(Math.round(Number(retryAfter) * 1000));
  const shouldRetry = header('x-should-retry');
  if (shouldRetry !== undefined) expect(e.details?.['shouldRetry']).toBe(shouldRetry === 'true');
}

/** The code an `error` event inside a 200 stream maps to. */
function expectedStreamErrorCode(streamError: { type?: string | null; code?: unknown }): string {
  if (typeof streamError.code === 'number') {
    return streamError.code === 429 ? ProviderErrorCodes.rateLimited : sdkWouldRetry(streamError.code) ? ProviderErrorCodes.unavailable : ProviderErrorCodes.badRequest;
  }
  return streamError.type === 'server_error' ? ProviderErrorCodes.unavailable : ProviderErrorCodes.malformedResponse;
}

describe('openai chat corpus', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const p = provider();
    const request = requestFor(c);
    const before = server.requests.length;

    if (c.sequence !== undefined) {
      // openai-node retry cases: the recorded expectation is the SDK's own retry decision
      // (`retried`, `fetch_calls`, the recovered `result`). With maxRetries 0 the SDK sends
      // exactly one request, so `fetch_calls` cannot apply as recorded; what applies is the
      // decision itself, carried by our error kind (operational ⇔ the SDK would have retried),
      // and the wait the response asked for. The SDK's request went to GET /v1/items; ours is
      // the chat completion, which is the only call the adapter makes.
      const [first, second] = c.sequence;
      server.enqueue(fakeResponseFromRecording(first!));
      const { error } = await completeOrError(p, request);
      expect(server.requests.length - before).toBe(1);
      expect(server.requests.at(-1)?.headers['x-stainless-retry-count']).toBe('0');
      checkHttpError(c, error, first!.http_status!, first!.headers);
      expect(error instanceof OperationalError).toBe(c.expect['retried'] === true);
      if (c.expect['retried'] === true && second !== undefined) {
        // What the resilience layer's retry would receive: a 200 that is not a chat
        // completion (`{"recovered":true}`); the adapter reports it, it does not crash.
        server.enqueue(fakeResponseFromRecording(second));
        const retry = await completeOrError(p, request);
        expect(expectProviderError(retry.error).code).toBe(ProviderErrorCodes.malformedResponse);
      } else {
        expect(c.expect['status']).toBe(first!.http_status);
      }
      passed.add(c.name);
      return;
    }

    if (c.kind === 'error') {
      // A rejected request fails the same way whether it asked for a stream or not.
      server.enqueue(fakeResponseFromRecording(c), fakeResponseFromRecording(c));
      const viaComplete = await completeOrError(p, request);
      checkHttpError(c, viaComplete.error, c.http_status!, c.headers);
      const viaStream = await drain(p, request);
      expect(viaStream.deltas).toEqual([]);
      checkHttpError(c, viaStream.error, c.http_status!, c.headers);
      expect((viaStream.error as Error).message).toBe((viaComplete.error as Error).message);
      expect(server.requests.length - before).toBe(2);
      passed.add(c.name);
      return;
    }

    server.enqueue(fakeResponseFromRecording(c));
    if (c.kind === 'response') {
      const { result, error } = await completeOrError(p, request);
      const sent = server.requests.at(-1)!;
      expect(sent.url).toBe('/v1/chat/completions');
      expect(sent.headers['authorization']).toBe(`Bearer ${API_KEY}`);
      expect((sent.body as Record<string, unknown>)['stream']).toBeUndefined();
      if (typeof c.expect['refusal'] === 'string') {
        expect(expectProviderError(error).code).toBe(ProviderErrorCodes.refused);
      } else {
        expect(error).toBeUndefined();
        checkResult(c, result!, request);
      }
      passed.add(c.name);
      return;
    }

    // kind === 'stream'
    const { deltas, result, error } = await drain(p, request);
    const sent = server.requests.at(-1)!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    // Content deltas only, in order, none empty; reasoning never comes out as a delta.
    expect(deltas.join('')).toBe(c.expect['text'] ?? '');
    expect(deltas.every((d) => d !== '')).toBe(true);
    if (Array.isArray(c.expect['text_deltas_expected_by_source'])) {
      expect(deltas).toEqual((c.expect['text_deltas_expected_by_source'] as string[]).filter((d) => d !== ''));
    }
    const streamError = c.expect['stream_error'] as { message: string; type?: string | null; code?: unknown } | undefined;
    if (streamError !== undefined) {
      const e = expectProviderError(error);
      expect(result).toBeUndefined();
      expect(e.message).toContain(streamError.message);
      expect(e.code).toBe(expectedStreamErrorCode(streamError));
      const sourceAsserts = c.expect['source_asserts'] as { isRetryable?: boolean } | undefined;
      if (sourceAsserts?.isRetryable !== undefined) expect(e instanceof OperationalError).toBe(sourceAsserts.isRetryable);
    } else if (typeof c.expect['refusal'] === 'string') {
      const e = expectProviderError(error);
      expect(e.code).toBe(ProviderErrorCodes.refused);
      expect(e.message).toContain(c.expect['refusal']);
      expect(e.details?.['refusal']).toBe(c.expect['refusal']);
    } else {
      expect(error).toBeUndefined();
      checkResult(c, result!, request);
    }
    passed.add(c.name);
  });
});

describe('openai adapter behaviour on the wire', () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] })}`;
  const request: CompletionRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], tools: [] };

  it('cancellation aborts the HTTP request and fails with PROVIDER_CALL_CANCELLED', async () => {
    server.enqueue({ delayMs: 600, body: { choices: [] } });
    const controller = new AbortController();
    const before = server.requests.length;
    const pending = provider().complete({ ...request, signal: controller.signal });
    while (server.requests.length === before) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(expectProviderError(err).code).toBe(ProviderErrorCodes.cancelled);
    expect(err).toBeInstanceOf(UserError);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.at(-1)?.aborted).toBe(true);
  });

  it('cancelling a stream mid-way aborts the request', async () => {
    server.enqueue({ sseEvents: [chunk({ role: 'assistant', content: 'Hel' }), chunk({ content: 'lo' })], stallAfterEvents: 1 });
    const controller = new AbortController();
    const deltas: string[] = [];
    let error: unknown;
    try {
      for await (const event of provider().stream({ ...request, signal: controller.signal }) as AsyncIterable<CompletionStreamEvent>) {
        if (event.type === 'delta') {
          deltas.push(event.content);
          controller.abort();
        }
      }
    } catch (err) {
      error = err;
    }
    expect(deltas).toEqual(['Hel']);
    expect(expectProviderError(error).code).toBe(ProviderErrorCodes.cancelled);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.at(-1)?.aborted).toBe(true);
  });

  it('an already aborted signal sends nothing', async () => {
    const before = server.requests.length;
    const err = await provider().complete({ ...request, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(expectProviderError(err).code).toBe(ProviderErrorCodes.cancelled);
    expect(server.requests.length).toBe(before);
  });

  it('a stalled stream fails with PROVIDER_TIMEOUT after idleTimeoutMs and aborts the request', async () => {
    server.enqueue({ sseEvents: [chunk({ role: 'assistant', content: 'Hi' }), chunk({}, 'stop')], stallAfterEvents: 1 });
    const started = Date.now();
    const { deltas, error } = await drain(provider({ idleTimeoutMs: 300 }), request);
    const elapsed = Date.now() - started;
    const e = expectProviderError(error);
    expect(e.code).toBe(ProviderErrorCodes.timeout);
    expect(e).toBeInstanceOf(OperationalError);
    expect(e.message).toContain('300 ms');
    expect(deltas).toEqual(['Hi']);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.at(-1)?.aborted).toBe(true);
  });

  it('a response that never comes fails with PROVIDER_TIMEOUT after timeoutMs', async () => {
    server.enqueue({ delayMs: 900, body: { choices: [] } });
    const err = await provider({ timeoutMs: 300 }).complete(request).catch((e: unknown) => e);
    expect(expectProviderError(err).code).toBe(ProviderErrorCodes.timeout);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.at(-1)?.aborted).toBe(true);
  });

  it('a stream whose socket is cut fails with PROVIDER_STREAM_INTERRUPTED', async () => {
    server.enqueue({ sseEvents: [chunk({ role: 'assistant', content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), 'data: [DONE]'], cutAfterEvents: 2 });
    const { deltas, result, error } = await drain(provider(), request);
    expect(expectProviderError(error).code).toBe(ProviderErrorCodes.streamInterrupted);
    expect(deltas).toEqual(['Hel', 'lo']);
    expect(result).toBeUndefined();
  });

  it('a stream that ends cleanly but without a finish reason is PROVIDER_STREAM_INTERRUPTED', async () => {
    server.enqueue({ sseEvents: [chunk({ role: 'assistant', content: 'Hel' })] });
    const { error } = await drain(provider(), request);
    expect(expectProviderError(error).code).toBe(ProviderErrorCodes.streamInterrupted);
  });

  it('a stream event that is not JSON is PROVIDER_MALFORMED_RESPONSE', async () => {
    server.enqueue({ sseEvents: [chunk({ role: 'assistant', content: 'Hel' }), 'data: {not json'] });
    const { error } = await drain(provider(), request);
    expect(expectProviderError(error).code).toBe(ProviderErrorCodes.malformedResponse);
  });

  it('a 200 with an invalid JSON body, no choices, or text is PROVIDER_MALFORMED_RESPONSE', async () => {
    server.enqueue(
      { headers: { 'content-type': 'application/json' }, rawBody: '{"choices": [' },
      { body: { id: 'x', object: 'chat.completion', choices: [] } },
      { headers: { 'content-type': 'text/html' }, rawBody: '<html>gateway</html>' },
    );
    for (let i = 0; i < 3; i++) {
      const err = await provider().complete(request).catch((e: unknown) => e);
      expect(expectProviderError(err).code).toBe(ProviderErrorCodes.malformedResponse);
    }
  });

  it('tool arguments that are not JSON are passed through as written', async () => {
    const broken = '{"path": "a.txt", ';
    server.enqueue({
      body: {
        choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: broken } }] } }],
        usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
      },
    });
    const result = await provider().complete(request);
    expect(result.message.toolCalls).toEqual([{ id: 'call_1', name: 'read_file', argumentsJson: broken }]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('content_filter is MODEL_REFUSED', async () => {
    server.enqueue({ body: { choices: [{ index: 0, finish_reason: 'content_filter', message: { role: 'assistant', content: '' } }] } });
    const err = await provider().complete(request).catch((e: unknown) => e);
    expect(expectProviderError(err).code).toBe(ProviderErrorCodes.refused);
  });

  it('maps status codes the corpus has no recording of', async () => {
    const error = (status: number, message: string, code: string | null = null, headers: Record<string, string> = {}) => ({
      status,
      headers,
      body: { error: { message, type: 'invalid_request_error', param: null, code } },
    });
    const table: Array<[ReturnType<typeof error>, string]> = [
      [error(400, "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", 'context_length_exceeded'), ProviderErrorCodes.contextTooLong],
      [error(400, "This model's maximum context length is 65536 tokens. Please reduce the length of the messages."), ProviderErrorCodes.contextTooLong],
      [error(402, 'Insufficient Balance'), ProviderErrorCodes.insufficientBalance],
      [error(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota'), ProviderErrorCodes.insufficientBalance],
      [error(403, 'Project does not have access'), ProviderErrorCodes.authFailed],
      [error(422, 'Invalid tool schema'), ProviderErrorCodes.badRequest],
      [error(503, 'Service Unavailable', null, { 'retry-after': '2' }), ProviderErrorCodes.unavailable],
      [error(529, 'Overloaded'), ProviderErrorCodes.unavailable],
      [error(502, 'Bad gateway'), ProviderErrorCodes.unavailable],
      [error(408, 'Request timeout'), ProviderErrorCodes.unavailable],
    ];
    for (const [response, code] of table) {
      server.enqueue(response);
      const err = await provider().complete(request).catch((e: unknown) => e);
      const e = expectProviderError(err);
      expect([response.status, e.code]).toEqual([response.status, code]);
      expect(e.message).toContain(response.body.error.message);
    }
    server.enqueue(error(503, 'down', null, { 'retry-after': '2' }));
    const last = expectProviderError(await provider().complete(request).catch((e: unknown) => e));
    expect(last.details?.['retryAfterMs']).toBe(2000);
  });

  it('a refused connection is PROVIDER_UNAVAILABLE naming the base URL', async () => {
    const closed = await startFakeHttpServer();
    const url = `${closed.baseUrl}/v1`;
    await closed.close();
    const err = await provider({ baseURL: url }).complete(request).catch((e: unknown) => e);
    const e = expectProviderError(err);
    expect(e.code).toBe(ProviderErrorCodes.unavailable);
    expect(e.message).toContain(url);
  });

  it('never shows the API key, even when the provider echoes it', async () => {
    const echo = `Incorrect API key provided: ${API_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    server.enqueue(
      { status: 401, body: { error: { message: echo, type: 'invalid_request_error', param: API_KEY, code: 'invalid_api_key' } } },
      { sseEvents: [`data: ${JSON.stringify({ error: { message: `bad key ${API_KEY}`, type: 'server_error' } })}`] },
      { headers: { 'content-type': 'text/plain' }, rawBody: `key=${API_KEY}` },
    );
    const auth = expectProviderError(await provider().complete(request).catch((e: unknown) => e));
    expect(auth.code).toBe(ProviderErrorCodes.authFailed);
    expect(auth.message).toContain('the openai provider rejected the key in OPENAI_API_KEY: Incorrect API key provided: [redacted]');
    expect(auth.details?.['param']).toBe('[redacted]');
    const streamed = await drain(provider(), request);
    expect(expectProviderError(streamed.error).message).toContain('bad key [redacted]');
    const text = expectProviderError(await provider().complete(request).catch((e: unknown) => e));
    expect(text.message).toContain('key=[redacted]');
  });

  it('an empty key is PROVIDER_KEY_MISSING naming the variable', () => {
    expect(() => provider({ apiKey: '' })).toThrow(expect.objectContaining({ code: ProviderErrorCodes.keyMissing, message: expect.stringContaining('OPENAI_API_KEY') }));
  });
});

describe('scripted replies over the real wire (startFakeOpenAIServer)', () => {
  const script = parseScript({
    description: 'wire round trip',
    rules: [
      {
        name: 'plan',
        when: { intent: 'plan' },
        turns: [
          { content: 'I will write the file. ✓ 🚀', toolCalls: [{ name: 'fs.write', arguments: { path: 'a.js', content: 'export const sum = (a, b) => a + b;\n' } }, { name: 'fs.read', arguments: {} }] },
          { content: 'Done: a.js exports sum.' },
        ],
      },
      { name: 'fallback', turns: [{ toolCalls: [{ name: 'shell.run', arguments: { cmd: 'npm test' } }] }] },
    ],
  });
  const scripted = new ScriptedProvider(script, 'inline');
  const tools = [
    { name: 'fs.write', description: 'Writes a file', parameters: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] } },
    { name: 'fs.read', description: '', parameters: { type: 'object', properties: {} } },
  ];
  const first: CompletionRequest = {
    model: 'gpt-4o',
    intent: 'plan',
    tools,
    messages: [
      { role: 'system', content: 'You are a coding agent.' },
      { role: 'user', content: 'Add a sum function', name: 'alice' },
    ],
  };
  const second: CompletionRequest = {
    ...first,
    messages: [
      ...first.messages,
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'call_plan_0_0', name: 'fs.write', argumentsJson: '{"path":"a.js","content":"x"}' }],
      },
      { role: 'tool', content: 'wrote a.js', toolCallId: 'call_plan_0_0', name: 'fs.write' },
    ],
  };
  const noIntent: CompletionRequest = { model: 'gpt-4o', tools: [], messages: [{ role: 'user', content: 'hi' }] };

  let wire: Awaited<ReturnType<typeof startFakeOpenAIServer>>;
  beforeAll(async () => {
    wire = await startFakeOpenAIServer({ reply: (req) => scripted.complete(req) });
  });
  afterAll(() => wire.close());

  const wireProvider = () =>
    new OpenAICompatibleProvider({ name: 'openai', apiKey: 'fake-key', baseURL: wire.openaiBaseUrl, keyVariable: 'OPENAI_API_KEY', forwardIntent: true });

  it.each([['tool calls', first], ['text after a tool result', second], ['content-less tool call', noIntent]])(
    'complete(): %s come back identical, labelled scripted',
    async (_label, req) => {
      const direct = await scripted.complete(req);
      const viaWire = await wireProvider().complete(req);
      expect(viaWire).toEqual(direct);
      expect(viaWire.scripted).toBe(true);
      const decoded = wire.chatRequests.at(-1)!;
      expect(decoded.request.messages).toEqual(req.messages);
      expect(decoded.request.tools).toEqual(req.tools);
      expect(decoded.request.intent).toBe(req.intent);
    },
  );

  it.each([['tool calls', first], ['text after a tool result', second], ['content-less tool call', noIntent]])(
    'stream(): %s come back identical, with the same deltas, labelled scripted',
    async (_label, req) => {
      const expected: CompletionStreamEvent[] = [];
      for await (const event of scripted.stream(req) as AsyncIterable<CompletionStreamEvent>) expected.push(event);
      const events: CompletionStreamEvent[] = [];
      for await (const event of wireProvider().stream(req) as AsyncIterable<CompletionStreamEvent>) events.push(event);
      expect(events).toEqual(expected);
      expect(wire.chatRequests.at(-1)).toMatchObject({ stream: true, includeUsage: true });
    },
  );

  it('labels the response: requested model and x-maestro-fake header', async () => {
    const before = wire.requests.length;
    const response = await fetch(`${wire.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.headers.get('x-maestro-fake')).toBe('scripted');
    expect(((await response.json()) as { model: string }).model).toBe('gpt-4o-mini');
    expect(wire.requests.length).toBe(before + 1);
  });

  it('a script error comes back as a provider error, not a crash', async () => {
    const exhausted = { ...second, messages: [...second.messages, { role: 'assistant' as const, content: 'x' }, { role: 'user' as const, content: 'more' }] };
    const err = await wireProvider().complete(exhausted).catch((e: unknown) => e);
    const e = err as UserError;
    expect(e).toBeInstanceOf(UserError);
    expect(e.code).toBe(ProviderErrorCodes.badRequest);
    expect(e.message).toContain('script exhausted for rule plan');
    expect(e.details?.['scripted']).toBe(true);
  });

  it('a real provider reply is not labelled scripted', async () => {
    server.enqueue({ body: { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } });
    expect((await provider().complete(noIntent)).scripted).toBe(false);
  });
});
