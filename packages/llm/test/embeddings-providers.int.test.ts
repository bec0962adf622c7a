/**
 * The provider embedders against our fake servers' embedding endpoints, through the real SDKs:
 * what goes on the wire (base64 by default, `dimensions` / `outputDimensionality` only when
 * asked, Gemini task types per purpose), batching in order, usage, normalisation, retries that
 * honour Retry-After on the injected clock, a vector of the wrong dimension, cancellation, and
 * keys never in an error.
 */
import { ManualClock, OperationalError, UserError } from '@maestro/runtime';
import { startFakeGeminiServer, startFakeOpenAIServer } from '@maestro/testing';
import { GeminiEmbedder, type GeminiEmbedderOptions } from '../src/embeddings/gemini-embedder.js';
import { LocalHashEmbedder } from '../src/embeddings/local-hash-embedder.js';
import { OpenAIEmbedder, type OpenAIEmbedderOptions } from '../src/embeddings/openai-embedder.js';
import { ProviderErrorCodes } from '../src/provider-errors.js';

const OPENAI_KEY = 'sk-embed-SECRET-abcdef0123456789';
const GEMINI_KEY = 'AIzaEMBED-SECRET-0123456789';

const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** Lets the clock's pending sleep start, then moves time past it. */
async function advanceWhenWaiting(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < 200 && clock.pendingTimers === 0; i++) await new Promise((r) => setTimeout(r, 5));
  clock.advance(ms);
}

function expectNoKey(err: unknown, key: string): void {
  const e = err as OperationalError | UserError;
  expect(`${e.message} ${JSON.stringify(e.details)} ${String((e.cause as Error | undefined)?.message)}`).not.toContain(key);
}

describe('OpenAIEmbedder against the fake OpenAI server', () => {
  let server: Awaited<ReturnType<typeof startFakeOpenAIServer>>;
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
  });
  afterAll(() => server.close());

  const embedder = (options: Partial<OpenAIEmbedderOptions> = {}) =>
    new OpenAIEmbedder({ model: 'text-embedding-3-small', apiKey: OPENAI_KEY, baseURL: server.openaiBaseUrl, ...options });

  it('asks base64 like the SDK, decodes it, and returns unit vectors in input order with usage', async () => {
    const before = server.embeddingRequests.length;
    const e = embedder({ dimensions: 256 });
    expect(e.id).toBe('openai:text-embedding-3-small:256');
    const texts = ['tests need TZ=UTC', 'use pnpm, never npm', 'migrations run before start'];
    const { vectors, usage } = await e.embedWithUsage(texts);
    const asked = server.embeddingRequests.slice(before);
    expect(asked).toEqual([{ model: 'text-embedding-3-small', input: texts, encodingFormat: 'base64', dimensions: 256 }]);
    // The fake answers with the local hash embedder's vectors: float32 on the wire, so close, not equal.
    const local = new LocalHashEmbedder({ dimensions: 256 });
    vectors.forEach((vector, i) => {
      expect(vector).toHaveLength(256);
      expect(norm(vector)).toBeCloseTo(1, 6);
      local.embedOne(texts[i] ?? '').forEach((value, j) => expect(vector[j]).toBeCloseTo(value, 6));
    });
    expect(usage.inputTokens).toBeGreaterThan(5);
    expect(e.usage.inputTokens).toBe(usage.inputTokens);
  });

  it('sends no dimensions for the model native length, and splits large calls into batches', async () => {
    const before = server.embeddingRequests.length;
    const e = embedder({ maxBatchSize: 2 });
    expect(e.dimensions).toBe(1536);
    const texts = ['a one', 'b two', 'c three', 'd four', 'e five'];
    const vectors = await e.embed(texts);
    const asked = server.embeddingRequests.slice(before);
    expect(asked.map((r) => r.input)).toEqual([['a one', 'b two'], ['c three', 'd four'], ['e five']]);
    expect(asked.every((r) => r.dimensions === undefined)).toBe(true);
    const local = new LocalHashEmbedder({ dimensions: 1536 });
    expect(vectors[4]?.[0]).toBeCloseTo(local.embedOne('e five')[0] ?? NaN, 6);
    expect(e.usage.inputTokens).toBeGreaterThan(0);
  });

  it('gives blank texts the zero vector without sending them', async () => {
    const before = server.embeddingRequests.length;
    const vectors = await embedder({ dimensions: 64 }).embed(['', 'use pnpm', '  \n']);
    expect(server.embeddingRequests.slice(before).map((r) => r.input)).toEqual([['use pnpm']]);
    expect(vectors[0]).toEqual(new Array(64).fill(0));
    expect(vectors[2]).toEqual(new Array(64).fill(0));
    expect(norm(vectors[1] ?? [])).toBeCloseTo(1, 6);
    const none = server.embeddingRequests.length;
    expect(await embedder().embed([])).toEqual([]);
    expect(server.embeddingRequests).toHaveLength(none);
  });

  it('reads float arrays from a server that ignores encoding_format, ordered by index', async () => {
    server.enqueue({
      body: {
        object: 'list',
        model: 'm',
        data: [
          { object: 'embedding', index: 1, embedding: [0, 3, 4] },
          { object: 'embedding', index: 0, embedding: [2, 0, 0] },
        ],
        usage: { prompt_tokens: 4, total_tokens: 4 },
      },
    });
    const vectors = await embedder({ model: 'local-model', dimensions: 3 }).embed(['x', 'y']);
    expect(vectors).toEqual([[1, 0, 0], [0, 0.6, 0.8]]);
  });

  it('rejects a vector of the wrong dimension with INVALID_ARGUMENT naming embedding', async () => {
    const err = await embedder({ model: 'local-model', dimensions: 8 }).embed(['x']).catch((e: unknown) => e);
    // The fake answered 384 (its default for a model it does not know).
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'embedding', details: { expected: 8, received: 384 } });
    expect((err as Error).message).toMatch(/^embedding: .*384.*8/);
  });

  it('retries a 429 after the Retry-After it was given, on the injected clock', async () => {
    const clock = new ManualClock(1_000_000);
    server.enqueue({ status: 429, headers: { 'retry-after': '3' }, body: { error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' } } });
    const retried: number[] = [];
    const call = embedder({ clock, onRetry: (info) => retried.push(info.delayMs) }).embed(['x']);
    await advanceWhenWaiting(clock, 3_000);
    const [vector] = await call;
    expect(vector).toHaveLength(1536);
    expect(retried).toEqual([3_000]);
  });

  it('gives up on a 429 whose wait exceeds the retry budget at once, annotated', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '60' }, body: { error: { message: 'slow down', code: 'rate_limit_exceeded' } } });
    const err = await embedder().embed(['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect(err).toMatchObject({ code: ProviderErrorCodes.rateLimited, details: { attempts: 1, retryStop: 'budget_exceeded', retryAfterMs: 60_000 } });
  });

  it('maps a 401 to an auth failure naming the variable, without the key even when the server echoes it', async () => {
    server.enqueue({ status: 401, body: { error: { message: `Incorrect API key provided: ${OPENAI_KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const err = await embedder().embed(['x']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ProviderErrorCodes.authFailed, details: { keyVariable: 'OPENAI_API_KEY', status: 401 } });
    expectNoKey(err, OPENAI_KEY);
  });

  it('maps a refused connection to PROVIDER_UNAVAILABLE (memory then falls back to keywords)', async () => {
    const err = await embedder({ baseURL: 'http://127.0.0.1:1/v1', retry: { maxAttempts: 1 } }).embed(['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect(err).toMatchObject({ code: ProviderErrorCodes.unavailable });
  });

  it('is cancelled by its signal', async () => {
    server.enqueue({ delayMs: 500, body: { data: [] } });
    const controller = new AbortController();
    const call = embedder().embed(['x'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(call).rejects.toMatchObject({ code: ProviderErrorCodes.cancelled });
  });

  it('refuses to start without a key, naming the variable, and with a dimension the model cannot give', () => {
    expect(() => embedder({ apiKey: '' })).toThrow(/OPENAI_API_KEY/);
    expect(() => embedder({ model: 'text-embedding-ada-002', dimensions: 512 })).toThrow(expect.objectContaining({ field: 'dimensions' }));
    expect(() => embedder({ model: 'unknown-model' })).toThrow(/unknown-model:<dimensions>/);
  });
});

describe('GeminiEmbedder against the fake Gemini server', () => {
  let server: Awaited<ReturnType<typeof startFakeGeminiServer>>;
  beforeAll(async () => {
    server = await startFakeGeminiServer();
  });
  afterAll(() => server.close());

  const embedder = (options: Partial<GeminiEmbedderOptions> = {}) =>
    new GeminiEmbedder({ model: 'gemini-embedding-001', apiKey: GEMINI_KEY, baseUrl: server.baseUrl, ...options });

  it('posts batchEmbedContents with the task type of the purpose and the asked dimension', async () => {
    const before = server.embeddingRequests.length;
    const e = embedder({ dimensions: 768 });
    expect(e.id).toBe('gemini:gemini-embedding-001:768');
    const docs = await e.embed(['tests need TZ=UTC', 'use pnpm']);
    const [query] = await e.embed(['why do tests fail at midnight'], { purpose: 'query' });
    const asked = server.embeddingRequests.slice(before);
    expect(asked).toEqual([
      { model: 'gemini-embedding-001', method: 'batchEmbedContents', texts: ['tests need TZ=UTC', 'use pnpm'], taskTypes: ['RETRIEVAL_DOCUMENT', 'RETRIEVAL_DOCUMENT'], outputDimensionality: 768 },
      { model: 'gemini-embedding-001', method: 'batchEmbedContents', texts: ['why do tests fail at midnight'], taskTypes: ['RETRIEVAL_QUERY'], outputDimensionality: 768 },
    ]);
    for (const vector of [...docs, query ?? []]) {
      expect(vector).toHaveLength(768);
      expect(norm(vector)).toBeCloseTo(1, 9);
    }
    expect(server.requests.at(-1)?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
  });

  it('normalises vectors that come back longer or shorter than unit length', async () => {
    server.enqueue({ body: { embeddings: [{ values: [3, 4] }, { values: [0, 0.5] }] } });
    const vectors = await embedder({ model: 'my-embedding', dimensions: 2 }).embed(['a', 'b']);
    expect(vectors).toEqual([[0.6, 0.8], [0, 1]]);
  });

  it('sends outputDimensionality for an unknown model whose length it was told', async () => {
    const before = server.embeddingRequests.length;
    await embedder({ model: 'gemini-embedding-exp', dimensions: 256 }).embed(['x']);
    expect(server.embeddingRequests[before]?.outputDimensionality).toBe(256);
  });

  it('splits large calls into batches in order', async () => {
    const before = server.embeddingRequests.length;
    const vectors = await embedder({ maxBatchSize: 2 }).embed(['a', 'b', 'c']);
    expect(server.embeddingRequests.slice(before).map((r) => r.texts)).toEqual([['a', 'b'], ['c']]);
    const local = new LocalHashEmbedder({ dimensions: 3072 });
    expect(vectors[2]).toEqual(local.embedOne('c'));
  });

  it('retries a 429 after its RetryInfo delay on the injected clock', async () => {
    const clock = new ManualClock(1_000_000);
    server.enqueue({
      status: 429,
      body: {
        error: {
          code: 429,
          message: 'Resource has been exhausted',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.5s' }],
        },
      },
    });
    const retried: number[] = [];
    const call = embedder({ clock, onRetry: (info) => retried.push(info.delayMs) }).embed(['x']);
    await advanceWhenWaiting(clock, 2_500);
    expect(await call).toHaveLength(1);
    expect(retried).toEqual([2_500]);
  });

  it('maps an invalid key to an auth failure naming GEMINI_API_KEY without the key', async () => {
    server.enqueue({
      status: 400,
      body: {
        error: {
          code: 400,
          message: `API key not valid: ${GEMINI_KEY}`,
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
        },
      },
    });
    const err = await embedder().embed(['x']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ProviderErrorCodes.authFailed, details: { keyVariable: 'GEMINI_API_KEY', reason: 'API_KEY_INVALID' } });
    expectNoKey(err, GEMINI_KEY);
  });

  it('rejects a vector of the wrong dimension naming embedding', async () => {
    server.enqueue({ body: { embeddings: [{ values: [1, 2, 3] }] } });
    await expect(embedder().embed(['x'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'embedding' });
  });

  it('maps a refused connection to PROVIDER_UNAVAILABLE', async () => {
    const err = await embedder({ baseUrl: 'http://127.0.0.1:1', retry: { maxAttempts: 1 } }).embed(['x']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ProviderErrorCodes.unavailable });
  });

  it('times out a silent server after timeoutMs', async () => {
    server.enqueue({ delayMs: 500, body: { embeddings: [] } });
    await expect(embedder({ timeoutMs: 100, retry: { maxAttempts: 1 } }).embed(['x'])).rejects.toMatchObject({ code: ProviderErrorCodes.timeout });
  });

  it('answers :embedContent and Vertex :predict on the fake too', async () => {
    const single = await fetch(`${server.baseUrl}/v1beta/models/gemini-embedding-001:embedContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ text: 'hello' }] }, outputDimensionality: 64 }),
    });
    const body = (await single.json()) as { embedding: { values: number[] } };
    expect(body.embedding.values).toEqual(new LocalHashEmbedder({ dimensions: 64 }).embedOne('hello'));
    const vertex = new GeminiEmbedder({ model: 'text-embedding-005', apiKey: GEMINI_KEY, baseUrl: server.baseUrl, vertex: true, maxBatchSize: 2 });
    const { vectors, usage } = await vertex.embedWithUsage(['hello world', 'bye']);
    expect(vectors.map((v) => v.length)).toEqual([768, 768]);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.billableCharacters).toBe('helloworldbye'.length);
    expect(server.requests.at(-1)?.url).toMatch(/\/publishers\/google\/models\/text-embedding-005:predict$/);
  });
});
