/**
 * The Gemini adapter against recorded wire payloads (`shared/corpora/providers/gemini_cases.json`,
 * read in place): every case goes through the real `@google/genai` SDK, via `GeminiProvider`,
 * against a fake server serving the case's recorded bytes (`raw_body` when present, else
 * `sse_events` with the recorded separator, else `body`) with its status and headers. What each
 * case expects is derived from its `expect` by general rules (no per-case answers), so cases
 * held back from this checkout are checked the same way.
 *
 * Then the behaviours a caller notices: cancellation, timeouts, a cut stream, a refused
 * connection, key redaction, no SDK retries, and the fake server's encoder round trip.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OperationalError, UserError } from '@maestro/runtime';
import {
  startFakeGeminiServer,
  startFakeHttpServer,
  type FakeHttpServer,
  type FakeResponse,
} from '@maestro/testing';
import type { CompletionRequest, CompletionResult, CompletionStreamEvent } from '../src/chat-provider.js';
import { ProviderErrorCodes, parseDurationMs, type ProviderErrorCode } from '../src/provider-errors.js';
import { GeminiProvider, type GeminiProviderOptions } from '../src/providers/gemini/gemini-provider.js';
import { MALFORMED_TOOL_CALL_MESSAGE } from '../src/providers/gemini/from-gemini-response.js';
import { ScriptedProvider, parseScript } from '../src/scripted-provider.js';

const CORPUS = resolve(__dirname, '../../../../shared/corpora/providers/gemini_cases.json');
const API_KEY = 'AIzaTEST-not-a-real-key-0123456789';
const KEY_VARIABLE = 'GEMINI_API_KEY';

interface RawFunctionCall {
  id?: string;
  name?: string;
  args?: Record<string, unknown>;
  partialArgs?: Array<{ jsonPath?: string; stringValue?: string; numberValue?: number; boolValue?: boolean; nullValue?: string; willContinue?: boolean }>;
  willContinue?: boolean;
}

interface CaseExpect {
  text?: string | null;
  finish_reason?: string | null;
  usage?: Record<string, unknown> | null;
  function_calls?: RawFunctionCall[];
  thought_signature_parts?: number;
  thought_text?: string;
  prompt_feedback_block_reason?: string | null;
  first_chunk_text?: string;
  error_class?: string;
  status?: number;
  error_status?: string | null;
  error_message?: string;
  error_info_reason?: string;
  retry_delay?: string;
}

interface WireResponse {
  http_status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  sse_events?: string[];
  raw_body?: string;
  sse_serialization?: string;
}

interface GeminiCase extends WireResponse {
  name: string;
  kind: 'response' | 'stream' | 'error';
  request_hint?: { path?: string };
  expect: CaseExpect;
  sequence?: WireResponse[];
}

const cases = (JSON.parse(readFileSync(CORPUS, 'utf8')) as { cases: GeminiCase[] }).cases;

// ---------------------------------------------------------------------------------------------
// Serving a case
// ---------------------------------------------------------------------------------------------

const HOP_BY_HOP = new Set(['transfer-encoding', 'content-length', 'connection', 'content-encoding']);

function servedHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/** The separator a case's `sse_serialization` names first (`"\n\n"` or `"\r\n\r\n"`). */
function separatorOf(description: string | undefined): string {
  const text = description ?? '';
  const crlf = text.indexOf('"\\r\\n\\r\\n"');
  const lf = text.indexOf('"\\n\\n"');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return '\r\n\r\n';
  if (lf >= 0) return '\n\n';
  return '\r\n\r\n';
}

/** Splits exact stream bytes after each blank line, keeping every byte, so each event is its own network write. */
function splitAfterEvents(raw: string): string[] {
  const pieces: string[] = [];
  let rest = raw;
  for (;;) {
    const match = /\r\n\r\n|\n\n|\r\r/.exec(rest);
    if (match === null) break;
    const end = match.index + match[0].length;
    pieces.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}

function isStreamPath(c: GeminiCase): boolean {
  return (c.request_hint?.path ?? '').includes(':streamGenerateContent') || c.kind === 'stream';
}

function toFakeResponse(w: WireResponse, asStream: boolean): FakeResponse {
  const headers = servedHeaders(w.headers);
  const status = w.http_status ?? 200;
  if (w.raw_body !== undefined) {
    if (asStream && status < 400) {
      return { status, headers, sseEvents: splitAfterEvents(w.raw_body), separator: '', eventDelayMs: 5 };
    }
    return { status, headers, rawBody: w.raw_body };
  }
  if (w.sse_events !== undefined) {
    return { status, headers, sseEvents: w.sse_events, separator: separatorOf(w.sse_serialization), eventDelayMs: 2 };
  }
  return { status, headers, body: w.body };
}

/** A one-shot response case served as a one-event stream (`data: <json>\r\n\r\n`), as the live API would stream it. */
function responseAsStream(c: GeminiCase): FakeResponse {
  const body = c.raw_body !== undefined ? (JSON.parse(c.raw_body) as unknown) : c.body;
  return {
    status: c.http_status ?? 200,
    headers: { ...servedHeaders(c.headers), 'content-type': 'text/event-stream' },
    sseEvents: [`data: ${JSON.stringify(body)}`],
    separator: '\r\n\r\n',
  };
}

// ---------------------------------------------------------------------------------------------
// Running a call
// ---------------------------------------------------------------------------------------------

type Outcome =
  | { ok: true; result: CompletionResult; deltas: string[] }
  | { ok: false; error: unknown; deltas: string[] };

function modelOf(c: GeminiCase): string {
  return /\/models\/([^/:]+):/.exec(c.request_hint?.path ?? '')?.[1] ?? 'gemini-2.5-flash';
}

function requestFor(model: string, extra: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    model,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'How many letters are in the word Python?' },
    ],
    tools: [{ name: 'weather', description: 'Weather for a place', parameters: { type: 'object', properties: { location: { type: 'string' } } } }],
    ...extra,
  };
}

function provider(server: { baseUrl: string }, options: Partial<GeminiProviderOptions> = {}): GeminiProvider {
  return new GeminiProvider({ apiKey: API_KEY, keyVariable: KEY_VARIABLE, baseUrl: server.baseUrl, ...options });
}

async function run(gemini: GeminiProvider, request: CompletionRequest, mode: 'complete' | 'stream'): Promise<Outcome> {
  const deltas: string[] = [];
  try {
    if (mode === 'complete') return { ok: true, result: await gemini.complete(request), deltas };
    let final: CompletionResult | undefined;
    for await (const event of gemini.stream(request) as AsyncIterable<CompletionStreamEvent>) {
      if (event.type === 'delta') deltas.push(event.content);
      else final = event.result;
    }
    if (final === undefined) throw new Error('stream ended without a final event');
    return { ok: true, result: final, deltas };
  } catch (error: unknown) {
    return { ok: false, error, deltas };
  }
}

// ---------------------------------------------------------------------------------------------
// What a case expects, by general rules
// ---------------------------------------------------------------------------------------------

const REFUSAL_FINISH = new Set(['SAFETY', 'RECITATION', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'LANGUAGE', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);
const MALFORMED_FINISH = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS']);

/** The provider code an HTTP error should map to (the table of the adapter's contract). */
function expectedHttpCode(e: CaseExpect): ProviderErrorCode {
  const status = e.status ?? 0;
  const message = innerMessage(e.error_message ?? '');
  if (status === 429 || e.error_status === 'RESOURCE_EXHAUSTED') return ProviderErrorCodes.rateLimited;
  if (status === 401 || status === 403) return ProviderErrorCodes.authFailed;
  if (e.error_info_reason !== undefined && /^(API_KEY_|CREDENTIALS_MISSING|ACCESS_TOKEN_)/.test(e.error_info_reason)) {
    return ProviderErrorCodes.authFailed;
  }
  if (status === 400 && /input token count.*exceeds the maximum|exceeds the maximum number of tokens/i.test(message)) {
    return ProviderErrorCodes.contextTooLong;
  }
  if (status === 404) return ProviderErrorCodes.modelNotFound;
  if (status === 408 || status === 504) return ProviderErrorCodes.timeout;
  if (status >= 500) return ProviderErrorCodes.unavailable;
  return ProviderErrorCodes.badRequest;
}

/** The provider's own message inside an SDK message (`got status: INTERNAL. {"error":{"message":…}}`). */
function innerMessage(sdkMessage: string): string {
  const brace = sdkMessage.indexOf('{');
  if (brace < 0) return sdkMessage;
  try {
    const parsed = JSON.parse(sdkMessage.slice(brace)) as { error?: { message?: string } };
    return parsed.error?.message ?? sdkMessage;
  } catch {
    return sdkMessage;
  }
}

/** Function calls as a caller should get them: Vertex pieces assembled, calls the server already answered removed. */
function expectedCalls(c: GeminiCase): Array<{ id?: string; name: string; args: Record<string, unknown>; signature?: boolean }> {
  const calls: Array<{ id?: string; name: string; args: Record<string, unknown> }> = [];
  let open: { id?: string; name: string; args: Record<string, unknown>; continuing: Set<string> } | undefined;
  for (const fc of c.expect.function_calls ?? []) {
    if (fc.name !== undefined) {
      open = { name: fc.name, args: { ...(fc.args ?? {}) }, continuing: new Set(), ...(fc.id === undefined ? {} : { id: fc.id }) };
      calls.push(open);
    } else if (open === undefined) {
      continue;
    }
    for (const partial of fc.partialArgs ?? []) {
      const key = (partial.jsonPath ?? '$').replace(/^\$\./, '');
      const previous = open.args[key];
      if (partial.stringValue !== undefined) {
        open.args[key] = open.continuing.has(key) && typeof previous === 'string' ? previous + partial.stringValue : partial.stringValue;
      } else if (partial.numberValue !== undefined) open.args[key] = partial.numberValue;
      else if (partial.boolValue !== undefined) open.args[key] = partial.boolValue;
      else if (partial.nullValue !== undefined) open.args[key] = null;
      if (partial.willContinue === true) open.continuing.add(key);
      else open.continuing.delete(key);
    }
    if (fc.willContinue !== true) open = undefined;
  }
  const answered = answeredCallNames(c);
  return calls.filter((call) => {
    const i = answered.indexOf(call.name);
    if (i < 0) return true;
    answered.splice(i, 1);
    return false;
  });
}

/** Names in `functionResponse` parts of the case's model output (server-side tools it already ran). */
function answeredCallNames(c: GeminiCase): string[] {
  const bodies: unknown[] = [];
  if (c.sse_events !== undefined) {
    for (const event of c.sse_events) {
      try {
        bodies.push(JSON.parse(event.trim().replace(/^data:\s*/, '')));
      } catch {
        // Not JSON: carries no parts.
      }
    }
  } else if (c.body !== undefined) {
    bodies.push(c.body);
  }
  const names: string[] = [];
  for (const body of bodies) {
    const parts = (body as { candidates?: Array<{ content?: { parts?: Array<{ functionResponse?: { name?: string } }> } }> })
      .candidates?.[0]?.content?.parts;
    for (const part of parts ?? []) if (part.functionResponse?.name !== undefined) names.push(part.functionResponse.name);
  }
  return names;
}

function expectedUsage(usage: Record<string, unknown> | null | undefined): Record<string, number> {
  const n = (key: string): number => (typeof usage?.[key] === 'number' ? (usage[key] as number) : 0);
  const out: Record<string, number> = {
    inputTokens: n('promptTokenCount') + n('toolUsePromptTokenCount'),
    outputTokens: n('candidatesTokenCount') + n('thoughtsTokenCount'),
  };
  if (n('cachedContentTokenCount') > 0) out['cachedInputTokens'] = n('cachedContentTokenCount');
  if (n('thoughtsTokenCount') > 0) out['reasoningTokens'] = n('thoughtsTokenCount');
  return out;
}

function expectProviderError(error: unknown, code: ProviderErrorCode): asserts error is OperationalError | UserError {
  if (!(error instanceof OperationalError || error instanceof UserError)) {
    throw new Error(`expected a provider error ${code}, got ${String(error instanceof Error ? `${error.name}: ${error.message}` : error)}`);
  }
  expect(error.code).toBe(code);
  expect(error.details?.['provider']).toBe('gemini');
  expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(API_KEY);
}

/** Checks one outcome of a case against its expectation. */
function check(c: GeminiCase, mode: 'complete' | 'stream', outcome: Outcome): void {
  const e = c.expect;
  const visibleText = e.text ?? '';
  if (e.error_class !== undefined || (c.kind === 'error' && e.status !== undefined)) {
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    const code = expectedHttpCode(e);
    expectProviderError(outcome.error, code);
    const details = outcome.error.details ?? {};
    expect(details['status']).toBe(e.status);
    if (e.error_status !== undefined && e.error_status !== null) expect(details['providerCode']).toBe(e.error_status);
    if (e.error_message !== undefined) expect(outcome.error.message).toContain(innerMessage(e.error_message).split('\n')[0]);
    if (e.error_info_reason !== undefined) expect(details['reason']).toBe(e.error_info_reason);
    if (e.retry_delay !== undefined) expect(details['retryAfterMs']).toBe(parseDurationMs(e.retry_delay));
    if (code === ProviderErrorCodes.authFailed) {
      expect(details['keyVariable']).toBe(KEY_VARIABLE);
      expect(outcome.error.message).toContain(KEY_VARIABLE);
    }
    // Text the stream delivered before the error reached the caller first.
    if (mode === 'stream' && (e.first_chunk_text ?? null) !== null) expect(outcome.deltas.join('')).toBe(e.first_chunk_text);
    return;
  }
  const block = e.prompt_feedback_block_reason ?? null;
  const finish = e.finish_reason ?? null;
  if (block !== null || (finish !== null && REFUSAL_FINISH.has(finish))) {
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expectProviderError(outcome.error, ProviderErrorCodes.refused);
    expect(outcome.error.message).toContain(block ?? finish ?? '');
    // Whatever streamed before the refusal was a prefix of the visible text.
    expect(visibleText.startsWith(outcome.deltas.join(''))).toBe(true);
    return;
  }
  const calls = expectedCalls(c);
  if (finish === null && mode === 'stream') {
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.streamInterrupted);
    return;
  }
  if (finish === null && visibleText === '' && calls.length === 0) {
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.malformedResponse);
    return;
  }
  if (!outcome.ok) throw outcome.error;
  const { result, deltas } = outcome;
  expect(result.scripted).toBe(false);
  expect(result.usage).toEqual(expectedUsage(e.usage));
  expect(result.message.role).toBe('assistant');
  expect(result.message.reasoning).toBe(e.thought_text);
  if (e.thought_text !== undefined && e.thought_text !== '') expect(result.message.content).not.toContain(e.thought_text);
  if (mode === 'stream') expect(deltas.join('')).toBe(visibleText);
  if (finish !== null && MALFORMED_FINISH.has(finish)) {
    expect(result.finishReason).toBe('malformed_tool_call');
    expect(result.message.content).toBe(visibleText === '' ? MALFORMED_TOOL_CALL_MESSAGE : visibleText);
    expect(result.message.toolCalls).toBeUndefined();
    return;
  }
  expect(result.message.content).toBe(visibleText);
  expect(result.finishReason).toBe(finish === 'MAX_TOKENS' ? 'length' : calls.length > 0 ? 'tool_calls' : 'stop');
  const got = result.message.toolCalls ?? [];
  expect(got.map((call) => ({ name: call.name, args: JSON.parse(call.argumentsJson) as unknown }))).toEqual(
    calls.map((call) => ({ name: call.name, args: call.args })),
  );
  got.forEach((call, i) => {
    const wanted = calls[i]?.id;
    if (wanted !== undefined) expect(call.id).toBe(wanted);
    else expect(call.id).toMatch(/^call_\d+_[0-9a-f]+$/);
  });
  expect(new Set(got.map((call) => call.id)).size).toBe(got.length);
  const carried = (result.message.thoughtSignature === undefined ? 0 : 1) + got.filter((call) => call.thoughtSignature !== undefined).length;
  expect(carried).toBe(e.thought_signature_parts ?? 0);
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

describe('Gemini wire corpus through @google/genai and GeminiProvider', () => {
  let server: FakeHttpServer;
  let passed = 0;

  beforeAll(async () => {
    server = await startFakeHttpServer();
  });
  afterAll(async () => {
    await server.close();
    process.stdout.write(`gemini corpus: ${passed}/${cases.length} cases passed\n`);
  });

  it('has cases to run', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const modes: Array<{ mode: 'complete' | 'stream'; response: FakeResponse }> = [];
    const first = c.sequence?.[0];
    if (first !== undefined) {
      // The adapter never retries: only the first response of a retry sequence is ever asked for.
      modes.push({ mode: isStreamPath(c) ? 'stream' : 'complete', response: toFakeResponse(first, isStreamPath(c)) });
    } else if (c.kind === 'response') {
      modes.push({ mode: 'complete', response: toFakeResponse(c, false) }, { mode: 'stream', response: responseAsStream(c) });
    } else if (c.kind === 'stream') {
      modes.push({ mode: 'stream', response: toFakeResponse(c, true) });
    } else {
      modes.push({ mode: 'complete', response: toFakeResponse(c, false) }, { mode: 'stream', response: toFakeResponse(c, true) });
    }
    for (const { mode, response } of modes) {
      const before = server.requests.length;
      server.enqueue(response);
      const outcome = await run(provider(server, { timeoutMs: 10_000, idleTimeoutMs: 5_000 }), requestFor(modelOf(c)), mode);
      try {
        check(c, mode, outcome);
      } catch (err) {
        if (err instanceof Error) err.message = `${c.name} (${mode}): ${err.message}`;
        throw err;
      }
      expect(server.requests.length).toBe(before + 1);
      const sent = server.requests[before];
      expect(sent?.url).toContain(`/models/${modelOf(c)}:${mode === 'stream' ? 'streamGenerateContent' : 'generateContent'}`);
      expect(sent?.headers['x-goog-api-key']).toBe(API_KEY);
    }
    passed += 1;
  });
});

// ---------------------------------------------------------------------------------------------
// Behaviours around the wire
// ---------------------------------------------------------------------------------------------

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const TEXT_CHUNK = (text: string, finish?: string): string =>
  `data: ${JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0, ...(finish === undefined ? {} : { finishReason: finish }) }],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
  })}`;

describe('GeminiProvider call behaviour', () => {
  let server: FakeHttpServer;

  beforeEach(async () => {
    server = await startFakeHttpServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('sends the conversation in Gemini form, with one attempt only', async () => {
    server.enqueue({ status: 503, body: { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } } });
    const outcome = await run(provider(server), requestFor('gemini-2.5-pro', { maxOutputTokens: 50 }), 'complete');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.unavailable);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'How many letters are in the word Python?' }] }],
      systemInstruction: { parts: [{ text: 'You are terse.' }] },
      tools: [
        {
          functionDeclarations: [
            {
              name: 'weather',
              description: 'Weather for a place',
              parametersJsonSchema: { type: 'object', properties: { location: { type: 'string' } } },
            },
          ],
        },
      ],
      generationConfig: { maxOutputTokens: 50 },
    });
  });

  it('cancels on the caller signal: PROVIDER_CALL_CANCELLED and the server sees the request aborted', async () => {
    server.enqueue({ body: { candidates: [] }, delayMs: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const outcome = await run(provider(server), requestFor('gemini-2.5-pro', { signal: controller.signal }), 'complete');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.cancelled);
    await waitFor(() => server.requests[0]?.aborted === true);
  });

  it('cancels a stream mid-way', async () => {
    server.enqueue({ sseEvents: [TEXT_CHUNK('Hel'), TEXT_CHUNK('lo', 'STOP')], separator: '\r\n\r\n', stallAfterEvents: 1 });
    const controller = new AbortController();
    const gemini = provider(server);
    const deltas: string[] = [];
    let error: unknown;
    try {
      for await (const event of gemini.stream(requestFor('gemini-2.5-pro', { signal: controller.signal }))) {
        if (event.type === 'delta') {
          deltas.push(event.content);
          controller.abort();
        }
      }
    } catch (err) {
      error = err;
    }
    expect(deltas).toEqual(['Hel']);
    expectProviderError(error, ProviderErrorCodes.cancelled);
    await waitFor(() => server.requests[0]?.aborted === true);
  });

  it('times out a call that gets no answer', async () => {
    server.enqueue({ body: { candidates: [] }, delayMs: 3000 });
    const started = Date.now();
    const outcome = await run(provider(server, { timeoutMs: 300 }), requestFor('gemini-2.5-pro'), 'complete');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expectProviderError(outcome.error, ProviderErrorCodes.timeout);
      expect(outcome.error.details?.['timeoutMs']).toBe(300);
    }
    expect(Date.now() - started).toBeLessThan(2500);
    await waitFor(() => server.requests[0]?.aborted === true);
  });

  it('times out a stalled stream after idleTimeoutMs and aborts the request', async () => {
    server.enqueue({ sseEvents: [TEXT_CHUNK('Hel'), TEXT_CHUNK('lo', 'STOP')], separator: '\r\n\r\n', stallAfterEvents: 1 });
    const started = Date.now();
    const outcome = await run(provider(server, { idleTimeoutMs: 300 }), requestFor('gemini-2.5-pro'), 'stream');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expectProviderError(outcome.error, ProviderErrorCodes.timeout);
      expect(outcome.error.message).toContain('stalled');
    }
    expect(outcome.deltas).toEqual(['Hel']);
    expect(Date.now() - started).toBeLessThan(2500);
    await waitFor(() => server.requests[0]?.aborted === true);
  });

  it('reports a stream cut mid-way as PROVIDER_STREAM_INTERRUPTED', async () => {
    server.enqueue({ sseEvents: [TEXT_CHUNK('Hel'), TEXT_CHUNK('lo', 'STOP')], separator: '\r\n\r\n', cutAfterEvents: 1, eventDelayMs: 20 });
    const outcome = await run(provider(server), requestFor('gemini-2.5-pro'), 'stream');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.streamInterrupted);
  });

  it('reports a stream truncated inside an event, or ended without a finish reason, as interrupted', async () => {
    const half = TEXT_CHUNK('lo', 'STOP').slice(0, 40);
    server.enqueue(
      { sseEvents: [TEXT_CHUNK('Hel'), half], separator: '', eventDelayMs: 5 },
      { sseEvents: [TEXT_CHUNK('Hel')], separator: '\r\n\r\n' },
    );
    for (let i = 0; i < 2; i++) {
      const outcome = await run(provider(server), requestFor('gemini-2.5-pro'), 'stream');
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.streamInterrupted);
    }
  });

  it('reports invalid JSON and a 200 without candidates as PROVIDER_MALFORMED_RESPONSE', async () => {
    server.enqueue(
      { rawBody: '{"candidates": [', headers: { 'content-type': 'application/json' } },
      { body: {} },
      { body: { candidates: [] } },
      { sseEvents: ['data: {not json'], separator: '\r\n\r\n' },
      { sseEvents: [], separator: '\r\n\r\n' },
    );
    for (const mode of ['complete', 'complete', 'complete', 'stream', 'stream'] as const) {
      const outcome = await run(provider(server), requestFor('gemini-2.5-pro'), mode);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.malformedResponse);
    }
  });

  it('reports a refused connection as PROVIDER_UNAVAILABLE', async () => {
    const closed = await startFakeHttpServer();
    await closed.close();
    const outcome = await run(provider(closed), requestFor('gemini-2.5-pro'), 'complete');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectProviderError(outcome.error, ProviderErrorCodes.unavailable);
  });

  it('maps a 400 about the input token count to CONTEXT_TOO_LONG and reads retry-after on a 429', async () => {
    server.enqueue(
      {
        status: 400,
        body: {
          error: {
            code: 400,
            message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
            status: 'INVALID_ARGUMENT',
          },
        },
      },
      {
        status: 429,
        headers: { 'retry-after': '7' },
        body: { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } },
      },
    );
    const tooLong = await run(provider(server), requestFor('gemini-2.5-pro'), 'complete');
    expect(tooLong.ok).toBe(false);
    if (!tooLong.ok) expectProviderError(tooLong.error, ProviderErrorCodes.contextTooLong);
    const limited = await run(provider(server), requestFor('gemini-2.5-pro'), 'stream');
    expect(limited.ok).toBe(false);
    if (!limited.ok) {
      expectProviderError(limited.error, ProviderErrorCodes.rateLimited);
      expect(limited.error.details?.['retryAfterMs']).toBe(7000);
      expect(limited.error.details?.['providerCode']).toBe('RESOURCE_EXHAUSTED');
    }
  });

  it('never puts the API key in an error, even when the server echoes it', async () => {
    const echo = `API key not valid: ${API_KEY}. Request URL: https://x/v1beta/models/m:generateContent?key=${API_KEY}`;
    server.setResponder(() => ({
      status: 400,
      headers: { 'content-type': 'text/event-stream' },
      rawBody: JSON.stringify({
        error: {
          code: 400,
          message: echo,
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', metadata: { key: API_KEY } }],
        },
      }, null, 2),
    }));
    for (const mode of ['complete', 'stream'] as const) {
      const outcome = await run(provider(server), requestFor('gemini-2.5-pro'), mode);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) continue;
      expectProviderError(outcome.error, ProviderErrorCodes.authFailed);
      expect(outcome.error.message).toContain('[redacted]');
      const cause = (outcome.error as Error & { cause?: Error }).cause;
      expect(`${cause?.message ?? ''} ${cause?.stack ?? ''}`).not.toContain(API_KEY);
    }
  });

  it('carries thought signatures back on the next turn exactly as received', async () => {
    server.enqueue({
      body: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'thinking…', thought: true },
                { text: 'Checking.', thoughtSignature: 'c2lnLXRleHQ=' },
                { functionCall: { name: 'weather', args: { location: 'Paris' } }, thoughtSignature: 'c2lnLWNhbGw=' },
              ],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 7, totalTokenCount: 22 },
        responseId: 'r1',
      },
    });
    server.enqueue({ body: { candidates: [{ content: { role: 'model', parts: [{ text: 'Sunny.' }] }, finishReason: 'STOP' }] } });
    const gemini = provider(server);
    const first = await gemini.complete(requestFor('gemini-2.5-pro'));
    expect(first.finishReason).toBe('tool_calls');
    expect(first.message.reasoning).toBe('thinking…');
    const call = first.message.toolCalls?.[0];
    expect(call).toMatchObject({ name: 'weather', thoughtSignature: 'c2lnLWNhbGw=' });
    const second = await gemini.complete(
      requestFor('gemini-2.5-pro', {
        messages: [
          ...requestFor('gemini-2.5-pro').messages,
          first.message,
          { role: 'tool', toolCallId: call?.id ?? '', name: 'weather', content: 'sunny, 21°C' },
        ],
      }),
    );
    expect(second.message.content).toBe('Sunny.');
    const sent = server.requests[1]?.body as { contents: unknown[] };
    expect(sent.contents.slice(1)).toEqual([
      {
        role: 'model',
        parts: [
          { text: 'Checking.', thoughtSignature: 'c2lnLXRleHQ=' },
          { functionCall: { id: call?.id, name: 'weather', args: { location: 'Paris' } }, thoughtSignature: 'c2lnLWNhbGw=' },
        ],
      },
      { role: 'user', parts: [{ functionResponse: { id: call?.id, name: 'weather', response: { output: 'sunny, 21°C' } } }] },
    ]);
  });
});

describe('startFakeGeminiServer: scripted replies over the real wire', () => {
  const script = parseScript({
    rules: [
      {
        name: 'plan',
        when: { intent: 'plan' },
        turns: [{ content: 'Plan: write add.js, then test it ✅.' }],
      },
      {
        name: 'code',
        turns: [
          { content: "I'll write the file.", toolCalls: [{ name: 'fs.write', arguments: { path: 'a.js', content: 'export const a = 1;\n' } }] },
          { toolCalls: [{ name: 'shell.run', arguments: { cmd: 'npm test' } }, { name: 'fs.read', arguments: { path: 'a.js' } }] },
          { content: 'Done.' },
        ],
      },
    ],
  });
  const scripted = new ScriptedProvider(script);

  it.each(['complete', 'stream'] as const)('comes back identical through the adapter, marked scripted (%s)', async (mode) => {
    const server = await startFakeGeminiServer({ reply: (request) => scripted.complete(request) });
    try {
      const gemini = provider(server, { forwardIntent: true });
      const plan = requestFor('gemini-2.5-pro', { intent: 'plan' });
      const code = requestFor('gemini-2.5-pro', { intent: 'code' });
      // One plan turn, then the three turns of the code rule, each answered by running its tools.
      for (const request of [plan, code, code, code]) {
        const want = await scripted.complete(request);
        const outcome = await run(gemini, request, mode);
        if (!outcome.ok) throw outcome.error;
        expect(outcome.result).toEqual({ ...want, scripted: true });
        if (mode === 'stream') expect(outcome.deltas.join('')).toBe(want.message.content);
        // What the server decoded is what was asked (intent travels in the forwarded header).
        const decoded = server.decoded[server.decoded.length - 1];
        expect(decoded?.intent).toBe(request.intent);
        expect(decoded?.messages).toEqual(request.messages);
        expect(decoded?.tools).toEqual(request.tools);
        if (request === code) {
          code.messages.push(outcome.result.message);
          for (const call of outcome.result.message.toolCalls ?? []) {
            code.messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: `ran ${call.name}` });
          }
        }
      }
      // Past the script's end: the scripted provider's error travels as a Gemini error.
      const exhausted = await run(gemini, code, mode);
      expect(exhausted.ok).toBe(false);
      if (!exhausted.ok) {
        expectProviderError(exhausted.error, ProviderErrorCodes.badRequest);
        expect(exhausted.error.message).toContain('SCRIPT_EXHAUSTED');
      }
    } finally {
      await server.close();
    }
  });
});
