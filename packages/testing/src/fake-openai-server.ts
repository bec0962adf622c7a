/**
 * A fake OpenAI-compatible Chat Completions (and embeddings) server: a real HTTP server
 * speaking the real wire format, so the official `openai` SDK (and our adapter over it) can be
 * pointed at it.
 *
 * It decodes each `POST …/chat/completions` body into our `CompletionRequest`, asks `reply`
 * (typically a `ScriptedProvider`), and encodes the `CompletionResult` as a `chat.completion`
 * JSON body or, for `stream: true`, as `chat.completion.chunk` server-sent events (with the
 * `include_usage` chunk when asked). Nothing it serves is a model's answer, and every response
 * says so: `model` is the requested model and the header `x-maestro-fake: scripted` is set, which
 * the adapter turns into `scripted: true`.
 *
 * It also answers `POST …/embeddings` in the OpenAI wire format: float arrays, or base64
 * little-endian float32 when asked (`encoding_format: "base64"`, what the SDK asks by default),
 * with the vectors of an `embed` function or, by default, of the deterministic local hash
 * embedder, and `usage.prompt_tokens` counted with `o200k_base`.
 *
 * @example
 * const scripted = ScriptedProvider.fromFile('demo-script.json');
 * const server = await startFakeOpenAIServer({ reply: (req) => scripted.complete(req) });
 * const provider = new OpenAICompatibleProvider({ name: 'openai', apiKey: 'fake', baseURL: server.openaiBaseUrl, keyVariable: 'OPENAI_API_KEY' });
 */
import {
  FakeServerHeaders,
  LocalHashEmbedder,
  SCRIPTED_REPLY,
  countTokens,
  embeddingModelInfo,
  type ChatMessage, type CompletionRequest, type CompletionResult, type ToolCall, type ToolSpec } from '@maestro/llm';
import { OperationalError, UserError } from '@maestro/runtime';
import {
  startFakeHttpServer,
  type FakeHttpServer,
  type FakeResponse,
  type RecordedRequest,
} from './fake-http-server.js';

/** Options of {@link startFakeOpenAIServer}. */
export interface FakeOpenAIServerOptions {
  /**
   * Answers one decoded request. Errors it throws are served as OpenAI-style error bodies:
   * `UserError` → 400, `OperationalError` → 503, anything else → 500.
   * Without it, every chat completion is answered 500 "no reply function".
   */
  reply?: (request: CompletionRequest) => Promise<CompletionResult>;
  /** How many content deltas a streamed reply is split into (on code points). @default 3 */
  streamChunks?: number;
  /**
   * Answers one decoded embeddings request with one vector per input. Errors it throws are
   * served like `reply`'s. @default the local hash embedder, at the requested `dimensions`,
   * else the model's native length when known, else 384
   */
  embed?: (request: DecodedEmbeddingsRequest) => Promise<number[][]> | number[][];
}

/** An embeddings request as the fake server understood it. */
export interface DecodedEmbeddingsRequest {
  model: string;
  /** The texts (a single string input becomes one). */
  input: string[];
  /** `base64` or `float` (the wire default when absent). */
  encodingFormat: 'base64' | 'float';
  dimensions?: number;
}

/** A chat completions request as the fake server understood it. */
export interface DecodedChatRequest {
  request: CompletionRequest;
  stream: boolean;
  /** `stream_options.include_usage` */
  includeUsage: boolean;
}

/** A running fake OpenAI server. */
export interface FakeOpenAIServer extends FakeHttpServer {
  /** The SDK's `baseURL`: `<baseUrl>/v1` (the server also answers without `/v1`). */
  readonly openaiBaseUrl: string;
  /** Every chat completions request decoded so far, in arrival order. */
  readonly chatRequests: DecodedChatRequest[];
  /** Every embeddings request decoded so far, in arrival order. */
  readonly embeddingRequests: DecodedEmbeddingsRequest[];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((p) => (typeof asRecord(p)?.['text'] === 'string' ? (asRecord(p)?.['text'] as string) : '')).join('');
  return '';
}

/** A request body the fake server cannot understand (answered 400, as OpenAI would). */
export class FakeRequestError extends Error {
  override readonly name = 'FakeRequestError';
}

/**
 * Decodes a Chat Completions request body (and its headers) into our request shape. Tool
 * messages get back the `name` of the call they answer (the wire has no name on them), and
 * `intent` comes from the `x-maestro-intent` header when the adapter forwards it.
 */
export function fromChatCompletionsBody(
  body: unknown,
  headers: Record<string, string | string[] | undefined> = {},
): DecodedChatRequest {
  const root = asRecord(body);
  if (root === undefined) throw new FakeRequestError('the request body is not a JSON object');
  if (typeof root['model'] !== 'string' || root['model'] === '') throw new FakeRequestError('model: must be a non-empty string');
  if (!Array.isArray(root['messages'])) throw new FakeRequestError('messages: must be an array');
  const callNames = new Map<string, string>();
  const messages: ChatMessage[] = root['messages'].map((raw, i) => {
    const m = asRecord(raw);
    if (m === undefined) throw new FakeRequestError(`messages[${i}]: must be an object`);
    const role = m['role'];
    const content = textOf(m['content']);
    const name = typeof m['name'] === 'string' && m['name'] !== '' ? m['name'] : undefined;
    switch (role) {
      case 'system':
      case 'developer':
      case 'user':
        return { role: role === 'user' ? 'user' : 'system', content, ...(name !== undefined ? { name } : {}) };
      case 'assistant': {
        const out: ChatMessage = { role: 'assistant', content, ...(name !== undefined ? { name } : {}) };
        const calls = Array.isArray(m['tool_calls']) ? m['tool_calls'] : [];
        if (calls.length > 0) {
          out.toolCalls = calls.map((c, j): ToolCall => {
            const call = asRecord(c);
            const fn = asRecord(call?.['function']);
            if (call === undefined || typeof call['id'] !== 'string' || typeof fn?.['name'] !== 'string' || typeof fn['arguments'] !== 'string') {
              throw new FakeRequestError(`messages[${i}].tool_calls[${j}]: needs id, function.name and function.arguments`);
            }
            callNames.set(call['id'], fn['name']);
            return { id: call['id'], name: fn['name'], argumentsJson: fn['arguments'] };
          });
        }
        if (typeof m['reasoning_content'] === 'string' && m['reasoning_content'] !== '') out.reasoning = m['reasoning_content'];
        return out;
      }
      case 'tool': {
        const toolCallId = m['tool_call_id'];
        if (typeof toolCallId !== 'string') throw new FakeRequestError(`messages[${i}].tool_call_id: must be a string`);
        const callName = callNames.get(toolCallId);
        return { role: 'tool', content, toolCallId, ...(callName !== undefined ? { name: callName } : {}) };
      }
      default:
        throw new FakeRequestError(`messages[${i}].role: unknown role ${JSON.stringify(role)}`);
    }
  });
  const tools: ToolSpec[] = (Array.isArray(root['tools']) ? root['tools'] : []).map((raw, i) => {
    const fn = asRecord(asRecord(raw)?.['function']);
    if (fn === undefined || typeof fn['name'] !== 'string') throw new FakeRequestError(`tools[${i}]: must be a function tool with a name`);
    return {
      name: fn['name'],
      description: typeof fn['description'] === 'string' ? fn['description'] : '',
      parameters: asRecord(fn['parameters']) ?? { type: 'object', properties: {} },
    };
  });
  const request: CompletionRequest = { model: root['model'], messages, tools };
  const limit = root['max_completion_tokens'] ?? root['max_tokens'];
  if (typeof limit === 'number') request.maxOutputTokens = limit;
  const intent = headers[FakeServerHeaders.intent];
  if (typeof intent === 'string' && intent !== '') request.intent = intent;
  return {
    request,
    stream: root['stream'] === true,
    includeUsage: asRecord(root['stream_options'])?.['include_usage'] === true,
  };
}

/** Identity of one encoded reply. */
export interface FakeOpenAIEncodeOptions {
  /** The requested model, echoed as the response's `model`. */
  model: string;
  /** @default 'chatcmpl-fake' */
  id?: string;
  /** Unix seconds. @default 0 */
  created?: number;
}

function wireUsage(result: CompletionResult): Record<string, unknown> {
  const { usage } = result;
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    ...(usage.cachedInputTokens !== undefined ? { prompt_tokens_details: { cached_tokens: usage.cachedInputTokens } } : {}),
    ...(usage.reasoningTokens !== undefined ? { completion_tokens_details: { reasoning_tokens: usage.reasoningTokens } } : {}),
  };
}

/** Our finish reasons on the wire; `malformed_tool_call` has no Chat Completions equivalent and is sent as `stop`. */
function wireFinishReason(result: CompletionResult): string {
  return result.finishReason === 'malformed_tool_call' ? 'stop' : result.finishReason;
}

function wireToolCalls(calls: readonly ToolCall[]): Array<Record<string, unknown>> {
  return calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.argumentsJson } }));
}

/** A `chat.completion` body for `result`. */
export function toChatCompletionBody(result: CompletionResult, options: FakeOpenAIEncodeOptions): Record<string, unknown> {
  const calls = result.message.toolCalls ?? [];
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: result.message.content === '' && calls.length > 0 ? null : result.message.content,
    refusal: null,
  };
  if (calls.length > 0) message['tool_calls'] = wireToolCalls(calls);
  if (result.message.reasoning !== undefined && result.message.reasoning !== '') message['reasoning_content'] = result.message.reasoning;
  return {
    id: options.id ?? 'chatcmpl-fake',
    object: 'chat.completion',
    created: options.created ?? 0,
    model: options.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: wireFinishReason(result) }],
    usage: wireUsage(result),
  };
}

/** Splits text into at most `parts` pieces of whole code points. */
function splitText(text: string, parts: number): string[] {
  const points = Array.from(text);
  if (points.length === 0) return [];
  const size = Math.ceil(points.length / Math.max(1, parts));
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

/**
 * The SSE events (`data: …`, ending with `data: [DONE]`) streaming `result` the way OpenAI
 * does: a role chunk, reasoning, content in `chunks` deltas, each tool call announced (id,
 * name) then its arguments in two pieces, a finish chunk, and the usage chunk with
 * `choices: []` when `includeUsage` (other chunks then carry `usage: null`, as OpenAI's do).
 */
export function toChatCompletionChunks(
  result: CompletionResult,
  options: FakeOpenAIEncodeOptions & { includeUsage: boolean; chunks?: number },
): string[] {
  const base = { id: options.id ?? 'chatcmpl-fake', object: 'chat.completion.chunk', created: options.created ?? 0, model: options.model };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    `data: ${JSON.stringify({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(options.includeUsage ? { usage: null } : {}),
    })}`;
  const events: string[] = [chunk({ role: 'assistant', content: '' })];
  if (result.message.reasoning !== undefined && result.message.reasoning !== '') {
    for (const piece of splitText(result.message.reasoning, 2)) events.push(chunk({ reasoning_content: piece }));
  }
  for (const piece of splitText(result.message.content, options.chunks ?? 3)) events.push(chunk({ content: piece }));
  for (const [index, call] of (result.message.toolCalls ?? []).entries()) {
    events.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of splitText(call.argumentsJson, 2)) events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  }
  events.push(chunk({}, wireFinishReason(result)));
  if (options.includeUsage) events.push(`data: ${JSON.stringify({ ...base, choices: [], usage: wireUsage(result) })}`);
  events.push('data: [DONE]');
  return events;
}

/** Decodes an `/embeddings` request body (string or string-array `input`; token arrays are not supported). */
export function fromEmbeddingsBody(body: unknown): DecodedEmbeddingsRequest {
  const root = asRecord(body);
  if (root === undefined) throw new FakeRequestError('the request body is not a JSON object');
  if (typeof root['model'] !== 'string' || root['model'] === '') throw new FakeRequestError('model: must be a non-empty string');
  const raw = root['input'];
  const input = typeof raw === 'string' ? [raw] : Array.isArray(raw) && raw.every((x) => typeof x === 'string') ? (raw as string[]) : undefined;
  if (input === undefined || input.length === 0) throw new FakeRequestError('input: must be a string or a non-empty array of strings');
  const format = root['encoding_format'];
  if (format !== undefined && format !== 'float' && format !== 'base64') throw new FakeRequestError(`encoding_format: must be "float" or "base64", got ${JSON.stringify(format)}`);
  const dimensions = root['dimensions'];
  if (dimensions !== undefined && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)) {
    throw new FakeRequestError('dimensions: must be a positive integer');
  }
  return {
    model: root['model'],
    input,
    encodingFormat: format === 'base64' ? 'base64' : 'float',
    ...(typeof dimensions === 'number' ? { dimensions } : {}),
  };
}

/** A vector as the wire's base64 form: little-endian float32 bytes. */
export function toBase64Float32(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

/** An embeddings (`list`) body for `vectors`, in the request's encoding. */
export function toEmbeddingsBody(request: DecodedEmbeddingsRequest, vectors: readonly (readonly number[])[]): Record<string, unknown> {
  const promptTokens = request.input.reduce((sum, text) => sum + countTokens(text), 0);
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: request.encodingFormat === 'base64' ? toBase64Float32(vector) : [...vector],
    })),
    model: request.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** The fake's default vectors: the local hash embedder at the asked or the model's native length. */
function defaultEmbeddings(request: DecodedEmbeddingsRequest): number[][] {
  const dimensions = request.dimensions ?? embeddingModelInfo('openai', request.model)?.nativeDimensions ?? 384;
  const embedder = new LocalHashEmbedder({ dimensions });
  return request.input.map((text) => embedder.embedOne(text));
}

/** One recorded HTTP response, as the provider corpora (`shared/corpora/providers`) store them. */
export interface RecordedWireResponse {
  http_status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** The exact recorded bytes, when the recording kept them (preferred). */
  raw_body?: string;
  /** SSE events in wire form (`data: …`). */
  sse_events?: string[];
  /** How the events were separated, in words; `\r\n\r\n` when it says so, else `\n\n`. */
  sse_serialization?: string;
}

/** Headers about the original transfer, not the payload: replaying them would corrupt the replay. */
const TRANSFER_HEADERS = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'connection']);

/**
 * A recorded response as a {@link FakeResponse} that replays it byte for byte: `raw_body` when
 * present, else the SSE events with their separator, else the JSON body; with its status and
 * headers (minus transfer headers such as `content-length`).
 */
export function fakeResponseFromRecording(recording: RecordedWireResponse): FakeResponse {
  const headers = Object.fromEntries(
    Object.entries(recording.headers ?? {}).filter(([name]) => !TRANSFER_HEADERS.has(name.toLowerCase())),
  );
  const status = recording.http_status ?? 200;
  if (typeof recording.raw_body === 'string') return { status, headers, rawBody: recording.raw_body };
  if (Array.isArray(recording.sse_events)) {
    const separator = /\\r\\n\\r\\n|\r\n\r\n/.test(recording.sse_serialization ?? '') ? '\r\n\r\n' : '\n\n';
    return { status, headers, sseEvents: recording.sse_events, separator };
  }
  if (recording.body === undefined || recording.body === null) return { status, headers, rawBody: '' };
  return { status, headers, body: recording.body };
}

/** An OpenAI-style error response, labelled as fake. */
function errorResponse(status: number, message: string, type: string, code: string | null): FakeResponse {
  return {
    status,
    headers: { [FakeServerHeaders.reply]: SCRIPTED_REPLY },
    body: { error: { message, type, param: null, code } },
  };
}

function errorFromReply(err: unknown): FakeResponse {
  const message = err instanceof Error ? err.message : String(err);
  const code = typeof (err as { code?: unknown }).code === 'string' ? ((err as { code: string }).code) : null;
  if (err instanceof UserError) return errorResponse(400, message, 'invalid_request_error', code);
  if (err instanceof OperationalError) return errorResponse(503, message, 'server_error', code);
  return errorResponse(500, message, 'server_error', code);
}

/**
 * Starts a fake OpenAI-compatible server (see the module doc). Responses queued with `enqueue`
 * (recorded payloads) are served first, exactly as given; the rest go through `reply`.
 */
export async function startFakeOpenAIServer(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
  const chatRequests: DecodedChatRequest[] = [];
  const embeddingRequests: DecodedEmbeddingsRequest[] = [];
  let served = 0;
  const respondToEmbeddings = async (recorded: RecordedRequest): Promise<FakeResponse> => {
    let decoded: DecodedEmbeddingsRequest;
    try {
      decoded = fromEmbeddingsBody(recorded.body);
    } catch (err) {
      return errorResponse(400, `fake OpenAI server: ${(err as Error).message}`, 'invalid_request_error', null);
    }
    embeddingRequests.push(decoded);
    let vectors: number[][];
    try {
      vectors = await (options.embed ?? defaultEmbeddings)(decoded);
    } catch (err) {
      return errorFromReply(err);
    }
    return { headers: { [FakeServerHeaders.reply]: SCRIPTED_REPLY }, body: toEmbeddingsBody(decoded, vectors) };
  };
  const respond = async (recorded: RecordedRequest): Promise<FakeResponse> => {
    const path = recorded.url.split('?')[0] ?? '';
    if (recorded.method === 'POST' && path.endsWith('/embeddings')) return respondToEmbeddings(recorded);
    if (recorded.method !== 'POST' || !path.endsWith('/chat/completions')) {
      return errorResponse(404, `fake OpenAI server: no route for ${recorded.method} ${path}`, 'invalid_request_error', 'unknown_url');
    }
    let decoded: DecodedChatRequest;
    try {
      decoded = fromChatCompletionsBody(recorded.body, recorded.headers);
    } catch (err) {
      return errorResponse(400, `fake OpenAI server: ${(err as Error).message}`, 'invalid_request_error', null);
    }
    chatRequests.push(decoded);
    if (options.reply === undefined) {
      return errorResponse(500, 'fake OpenAI server: no reply function was given', 'server_error', null);
    }
    let result: CompletionResult;
    try {
      result = await options.reply(decoded.request);
    } catch (err) {
      return errorFromReply(err);
    }
    served += 1;
    const identity = { model: decoded.request.model, id: `chatcmpl-fake-${served}` };
    const headers = { [FakeServerHeaders.reply]: SCRIPTED_REPLY };
    if (decoded.stream) {
      return {
        headers: { ...headers, 'content-type': 'text/event-stream' },
        sseEvents: toChatCompletionChunks(result, {
          ...identity,
          includeUsage: decoded.includeUsage,
          ...(options.streamChunks !== undefined ? { chunks: options.streamChunks } : {}),
        }),
      };
    }
    return { headers, body: toChatCompletionBody(result, identity) };
  };
  const server = await startFakeHttpServer(respond);
  return Object.assign(server, { openaiBaseUrl: `${server.baseUrl}/v1`, chatRequests, embeddingRequests });
}
