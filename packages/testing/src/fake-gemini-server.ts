/**
 * A fake Gemini API on the real wire format: it decodes `:generateContent` and
 * `:streamGenerateContent?alt=sse` request bodies into our `CompletionRequest` (model from the
 * path), asks a `reply` function (a `ScriptedProvider`, say), and encodes its `CompletionResult`
 * back as a Gemini JSON response or SSE stream (`\r\n\r\n` separators, as the live API sends).
 *
 * It also answers the embedding methods: `:batchEmbedContents` and `:embedContent` (Gemini API)
 * and `:predict` (Vertex), with the vectors of an `embed` function or, by default, of the
 * deterministic local hash embedder (at `outputDimensionality`, else the model's native length
 * when known, else 384).
 *
 * Nothing here is a model: every reply carries `x-maestro-fake: scripted`, which the Gemini
 * adapter surfaces as `scripted: true`. Recorded payloads can be served as they are with
 * `enqueue` (they go out exactly as given, without that header).
 *
 * @example
 * const scripted = ScriptedProvider.fromFile('examples/scripts/demo-script.json');
 * const server = await startFakeGeminiServer({ reply: (request) => scripted.complete(request) });
 * const gemini = new GeminiProvider({ apiKey: 'test-key', keyVariable: 'GEMINI_API_KEY', baseUrl: server.baseUrl });
 */
import { FakeServerHeaders, LocalHashEmbedder, SCRIPTED_REPLY, countTokens, embeddingModelInfo, type ChatMessage, type CompletionRequest, type CompletionResult, type ToolCall, type ToolSpec } from '@maestro/llm';
import { OperationalError, UserError } from '@maestro/runtime';
import { startFakeHttpServer, type FakeHttpServer, type FakeResponse, type RecordedRequest } from './fake-http-server.js';

/** The SSE event separator of the live Gemini API. */
export const GEMINI_SSE_SEPARATOR = '\r\n\r\n';

/** How the fake answers. */
export interface FakeGeminiServerOptions {
  /** Answers each decoded request. Without it (and with nothing enqueued) the server answers 500. */
  reply?: (request: CompletionRequest) => Promise<CompletionResult>;
  /**
   * Answers one decoded embedding request with one vector per text. Errors it throws are served
   * like `reply`'s. @default the local hash embedder (see the module comment)
   */
  embed?: (request: GeminiEmbeddingRequest) => Promise<number[][]> | number[][];
}

/** A running fake Gemini server. */
export interface FakeGeminiServer extends FakeHttpServer {
  /** Every request the `reply` function was asked, decoded, in arrival order. */
  readonly decoded: CompletionRequest[];
  /** Every embedding request decoded so far, in arrival order. */
  readonly embeddingRequests: GeminiEmbeddingRequest[];
}

/** The embedding methods the fake answers. */
export type GeminiEmbeddingMethod = 'embedContent' | 'batchEmbedContents' | 'predict';

/** An embedding request as the fake understood it. */
export interface GeminiEmbeddingRequest {
  model: string;
  method: GeminiEmbeddingMethod;
  /** One text per vector asked for (a content's text parts joined). */
  texts: string[];
  /** The task type of each text (`RETRIEVAL_DOCUMENT` …), when sent. */
  taskTypes: Array<string | undefined>;
  outputDimensionality?: number;
}

/** A Gemini API call recognised from its path. */
export interface GeminiWireCall {
  model: string;
  /** True for `:streamGenerateContent`. */
  stream: boolean;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** The model and embedding method of a request path (`…/models/gemini-embedding-001:batchEmbedContents`). */
export function parseGeminiEmbeddingPath(url: string): { model: string; method: GeminiEmbeddingMethod } | undefined {
  const path = url.split('?')[0] ?? '';
  const match = /\/models\/([^/:]+):(embedContent|batchEmbedContents|predict)$/.exec(path);
  if (match === null) return undefined;
  return { model: decodeURIComponent(match[1] ?? ''), method: match[2] as GeminiEmbeddingMethod };
}

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!isRecord(content)) return '';
  return records(content['parts'])
    .map((part) => (typeof part['text'] === 'string' ? part['text'] : ''))
    .join('');
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Decodes an embedding request body: `{content, taskType, outputDimensionality}`
 * (`:embedContent`), `{requests: [that, with model]}` (`:batchEmbedContents`), or Vertex's
 * `{instances: [{content, task_type}], parameters: {outputDimensionality}}` (`:predict`).
 */
export function fromGeminiEmbeddingBody(model: string, method: GeminiEmbeddingMethod, body: unknown): GeminiEmbeddingRequest {
  const root = isRecord(body) ? body : {};
  const items =
    method === 'batchEmbedContents'
      ? records(root['requests'])
      : method === 'predict'
        ? records(root['instances'])
        : [root];
  const dimensions =
    method === 'predict'
      ? positiveInteger(isRecord(root['parameters']) ? root['parameters']['outputDimensionality'] : undefined)
      : items.map((item) => positiveInteger(item['outputDimensionality'])).find((d) => d !== undefined);
  const taskType = (item: Json): string | undefined => {
    const value = item['taskType'] ?? item['task_type'];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    model,
    method,
    texts: items.map((item) => textOfContent(item['content'])),
    taskTypes: items.map(taskType),
    ...(dimensions !== undefined ? { outputDimensionality: dimensions } : {}),
  };
}

/** The response body of an embedding method for `vectors`. */
export function toGeminiEmbeddingBody(request: GeminiEmbeddingRequest, vectors: readonly (readonly number[])[]): Json {
  switch (request.method) {
    case 'embedContent':
      return { embedding: { values: [...(vectors[0] ?? [])] } };
    case 'batchEmbedContents':
      return { embeddings: vectors.map((values) => ({ values: [...values] })) };
    case 'predict':
      return {
        predictions: vectors.map((values, i) => ({
          embeddings: { values: [...values], statistics: { token_count: countTokens(request.texts[i] ?? ''), truncated: false } },
        })),
        metadata: { billableCharacterCount: request.texts.reduce((sum, text) => sum + text.replace(/\s/g, '').length, 0) },
      };
  }
}

/** The fake's default vectors: the local hash embedder (see the module comment). */
function defaultEmbeddings(request: GeminiEmbeddingRequest): number[][] {
  const dimensions = request.outputDimensionality ?? embeddingModelInfo('gemini', request.model)?.nativeDimensions ?? 384;
  const embedder = new LocalHashEmbedder({ dimensions });
  return request.texts.map((text) => embedder.embedOne(text));
}

/** The model and method of a Gemini request path (`/v1beta/models/gemini-2.5-pro:generateContent?…`). */
export function parseGeminiPath(url: string): GeminiWireCall | undefined {
  const path = url.split('?')[0] ?? '';
  const match = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (match === null) return undefined;
  return { model: decodeURIComponent(match[1] ?? ''), stream: match[2] === 'streamGenerateContent' };
}

/**
 * Decodes a Gemini request body into our request: `systemInstruction` parts → system messages;
 * `model` turns → assistant messages (visible text, its thought signature, function calls);
 * `user` turns → tool messages (one per `functionResponse`) and a user message (its text);
 * `functionDeclarations` → tool specs; `generationConfig.maxOutputTokens`. `intent` does not
 * exist on the Gemini wire: pass the `x-maestro-intent` header's value when there is one.
 */
export function fromGeminiWireRequest(model: string, body: unknown, intent?: string): CompletionRequest {
  const root = isRecord(body) ? body : {};
  const messages: ChatMessage[] = [];
  const system = isRecord(root['systemInstruction']) ? records(root['systemInstruction']['parts']) : [];
  for (const part of system) messages.push({ role: 'system', content: typeof part['text'] === 'string' ? part['text'] : '' });
  for (const content of records(root['contents'])) {
    const parts = records(content['parts']);
    if (content['role'] === 'model') {
      messages.push(decodeModelTurn(parts));
      continue;
    }
    const texts: string[] = [];
    for (const part of parts) {
      const response = part['functionResponse'];
      if (isRecord(response)) {
        const payload = isRecord(response['response']) ? response['response'] : {};
        const output = payload['output'];
        const message: ChatMessage = { role: 'tool', content: typeof output === 'string' ? output : JSON.stringify(payload) };
        if (typeof response['id'] === 'string') message.toolCallId = response['id'];
        if (typeof response['name'] === 'string') message.name = response['name'];
        messages.push(message);
      } else if (typeof part['text'] === 'string') {
        texts.push(part['text']);
      }
    }
    if (texts.length > 0) messages.push({ role: 'user', content: texts.join('') });
  }
  const tools: ToolSpec[] = [];
  for (const tool of records(root['tools'])) {
    for (const declaration of records(tool['functionDeclarations'])) {
      const schema = declaration['parametersJsonSchema'] ?? declaration['parameters'];
      tools.push({
        name: typeof declaration['name'] === 'string' ? declaration['name'] : '',
        description: typeof declaration['description'] === 'string' ? declaration['description'] : '',
        parameters: isRecord(schema) ? schema : { type: 'object', properties: {} },
      });
    }
  }
  const request: CompletionRequest = { model, messages, tools };
  if (intent !== undefined && intent !== '') request.intent = intent;
  const generation = root['generationConfig'];
  if (isRecord(generation) && typeof generation['maxOutputTokens'] === 'number') request.maxOutputTokens = generation['maxOutputTokens'];
  return request;
}

function decodeModelTurn(parts: Json[]): ChatMessage {
  const message: ChatMessage = { role: 'assistant', content: '' };
  const toolCalls: ToolCall[] = [];
  for (const part of parts) {
    const call = part['functionCall'];
    const signature = typeof part['thoughtSignature'] === 'string' ? part['thoughtSignature'] : undefined;
    if (isRecord(call)) {
      const decoded: ToolCall = {
        id: typeof call['id'] === 'string' ? call['id'] : `call_${toolCalls.length}`,
        name: typeof call['name'] === 'string' ? call['name'] : '',
        argumentsJson: JSON.stringify(isRecord(call['args']) ? call['args'] : {}),
      };
      if (signature !== undefined) decoded.thoughtSignature = signature;
      toolCalls.push(decoded);
    } else if (typeof part['text'] === 'string' && part['thought'] !== true) {
      message.content += part['text'];
      if (signature !== undefined) message.thoughtSignature = signature;
    }
  }
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  return message;
}

const FINISH_REASONS: Readonly<Record<CompletionResult['finishReason'], string>> = {
  stop: 'STOP',
  tool_calls: 'STOP',
  length: 'MAX_TOKENS',
  malformed_tool_call: 'MALFORMED_FUNCTION_CALL',
};

function usageMetadataOf(result: CompletionResult): Json {
  const reasoning = result.usage.reasoningTokens ?? 0;
  const cached = result.usage.cachedInputTokens ?? 0;
  const usage: Json = {
    promptTokenCount: result.usage.inputTokens,
    candidatesTokenCount: result.usage.outputTokens - reasoning,
    totalTokenCount: result.usage.inputTokens + result.usage.outputTokens,
  };
  if (reasoning > 0) usage['thoughtsTokenCount'] = reasoning;
  if (cached > 0) usage['cachedContentTokenCount'] = cached;
  return usage;
}

function textPart(text: string, signature: string | undefined): Json {
  return signature === undefined ? { text } : { text, thoughtSignature: signature };
}

function callParts(calls: readonly ToolCall[]): Json[] {
  return calls.map((call) => {
    let args: unknown;
    try {
      args = JSON.parse(call.argumentsJson);
    } catch {
      args = {};
    }
    const part: Json = { functionCall: { id: call.id, name: call.name, args: isRecord(args) ? args : {} } };
    if (call.thoughtSignature !== undefined) part['thoughtSignature'] = call.thoughtSignature;
    return part;
  });
}

function chunkOf(parts: Json[], model: string, responseId: string, final?: CompletionResult): Json {
  const candidate: Json = { content: { role: 'model', parts }, index: 0 };
  const chunk: Json = { candidates: [candidate], modelVersion: model, responseId };
  if (final !== undefined) {
    candidate['finishReason'] = FINISH_REASONS[final.finishReason];
    chunk['usageMetadata'] = usageMetadataOf(final);
  }
  return chunk;
}

/** Encodes a result as one `generateContent` response body. */
export function toGeminiWireResponse(result: CompletionResult, model = 'fake', responseId = 'fake-response'): Json {
  const parts: Json[] = [];
  if (result.message.reasoning !== undefined && result.message.reasoning !== '') parts.push({ text: result.message.reasoning, thought: true });
  if (result.message.content !== '' || result.message.thoughtSignature !== undefined) {
    parts.push(textPart(result.message.content, result.message.thoughtSignature));
  }
  parts.push(...callParts(result.message.toolCalls ?? []));
  if (parts.length === 0) parts.push({ text: '' });
  return chunkOf(parts, model, responseId, result);
}

/** Splits text into at most `count` pieces of whole code points. */
function split(text: string, count: number): string[] {
  const points = Array.from(text);
  if (points.length === 0) return [];
  const size = Math.ceil(points.length / count);
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

/**
 * Encodes a result as `streamGenerateContent` chunks: the reasoning as a thought chunk, the
 * content in up to three text chunks (the thought signature on the last), the function calls,
 * and the finish reason and usage on the last chunk.
 */
export function toGeminiWireChunks(result: CompletionResult, model = 'fake', responseId = 'fake-response'): Json[] {
  const bodies: Json[][] = [];
  if (result.message.reasoning !== undefined && result.message.reasoning !== '') {
    bodies.push([{ text: result.message.reasoning, thought: true }]);
  }
  const pieces = split(result.message.content, 3);
  if (pieces.length === 0 && result.message.thoughtSignature !== undefined) pieces.push('');
  pieces.forEach((piece, i) => {
    bodies.push([textPart(piece, i === pieces.length - 1 ? result.message.thoughtSignature : undefined)]);
  });
  const calls = result.message.toolCalls ?? [];
  if (calls.length > 0) bodies.push(callParts(calls));
  if (bodies.length === 0) bodies.push([{ text: '' }]);
  return bodies.map((parts, i) => chunkOf(parts, model, responseId, i === bodies.length - 1 ? result : undefined));
}

/** A failure of `reply` as the Gemini API would send it (with the fake's header). */
function toWireError(err: unknown): FakeResponse {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof UserError || err instanceof OperationalError ? `${err.code}: ` : '';
  const [status, rpc] =
    err instanceof UserError
      ? [400, err.reason === 'precondition' ? 'FAILED_PRECONDITION' : 'INVALID_ARGUMENT']
      : err instanceof OperationalError
        ? [503, 'UNAVAILABLE']
        : [500, 'INTERNAL'];
  return {
    status,
    headers: { [FakeServerHeaders.reply]: SCRIPTED_REPLY },
    body: { error: { code: status, message: `${code}${message}`, status: rpc } },
  };
}

/** What the bare fake server answers when no response was prepared (kept for chat calls without `reply`). */
const NOTHING_PREPARED: FakeResponse = {
  status: 500,
  body: { error: { message: 'fake server: no response was prepared for this request' } },
};

/**
 * Starts a fake Gemini server on 127.0.0.1 (see the module comment). Requests to other paths
 * get a Gemini-shaped 404.
 */
export async function startFakeGeminiServer(options: FakeGeminiServerOptions = {}): Promise<FakeGeminiServer> {
  const decoded: CompletionRequest[] = [];
  const embeddingRequests: GeminiEmbeddingRequest[] = [];
  let sequence = 0;
  const { reply } = options;
  const embed = async (recorded: RecordedRequest, route: { model: string; method: GeminiEmbeddingMethod }): Promise<FakeResponse> => {
    const request = fromGeminiEmbeddingBody(route.model, route.method, recorded.body);
    embeddingRequests.push(request);
    let vectors: number[][];
    try {
      vectors = await (options.embed ?? defaultEmbeddings)(request);
    } catch (err: unknown) {
      return toWireError(err);
    }
    return { headers: { [FakeServerHeaders.reply]: SCRIPTED_REPLY }, body: toGeminiEmbeddingBody(request, vectors) };
  };
  const chat =
    reply === undefined
      ? undefined
      : async (recorded: RecordedRequest): Promise<FakeResponse> => {
          const call = parseGeminiPath(recorded.url);
          if (call === undefined) {
            return {
              status: 404,
              body: { error: { code: 404, message: `fake Gemini server: no such method ${recorded.url}`, status: 'NOT_FOUND' } },
            };
          }
          const intent = recorded.headers[FakeServerHeaders.intent];
          const request = fromGeminiWireRequest(call.model, recorded.body, typeof intent === 'string' ? intent : undefined);
          decoded.push(request);
          let result: CompletionResult;
          try {
            result = await reply(request);
          } catch (err: unknown) {
            return toWireError(err);
          }
          sequence += 1;
          const responseId = `fake-${sequence}`;
          const headers = { [FakeServerHeaders.reply]: SCRIPTED_REPLY };
          if (!call.stream) return { headers, body: toGeminiWireResponse(result, call.model, responseId) };
          return {
            headers: { ...headers, 'content-type': 'text/event-stream' },
            sseEvents: toGeminiWireChunks(result, call.model, responseId).map((chunk) => `data: ${JSON.stringify(chunk)}`),
            separator: GEMINI_SSE_SEPARATOR,
          };
        };
  const responder = async (recorded: RecordedRequest): Promise<FakeResponse> => {
    const embedding = parseGeminiEmbeddingPath(recorded.url);
    if (embedding !== undefined) return embed(recorded, embedding);
    // Without a reply function, chat calls get the bare server's "nothing prepared" 500, as before.
    return chat === undefined ? NOTHING_PREPARED : chat(recorded);
  };
  const server = await startFakeHttpServer(responder);
  return { ...server, decoded, embeddingRequests };
}
