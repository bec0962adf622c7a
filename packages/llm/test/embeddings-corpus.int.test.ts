/**
 * The embedders against recorded wire payloads (`shared/corpora/providers/embeddings_cases.json`,
 * read in place): every case is served byte for byte by our fake servers (`raw_body` when
 * recorded, else `body`, with its status and headers) and read by the real SDK through our
 * embedder — `/embeddings` through `OpenAIEmbedder` and the `openai` SDK,
 * `:batchEmbedContents` / `:embedContent` through `GeminiEmbedder` and `@google/genai`, Vertex
 * `:predict` through `GeminiEmbedder` in Vertex express mode. What a case expects is derived from
 * its `expect` by general rules (no per-case answers), so cases held back from this checkout are
 * checked the same way. The test prints how many cases ran.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OperationalError, UserError, type Clock } from '@maestro/runtime';
import {
  fakeResponseFromRecording,
  startFakeGeminiServer,
  startFakeOpenAIServer,
  type FakeHttpServer,
  type RecordedWireResponse,
} from '@maestro/testing';
import { GeminiEmbedder } from '../src/embeddings/gemini-embedder.js';
import { OpenAIEmbedder } from '../src/embeddings/openai-embedder.js';
import type { EmbeddingResult } from '../src/embeddings/embedder.js';
import { ProviderErrorCodes, type ProviderErrorCode } from '../src/provider-errors.js';

const CORPUS = resolve(__dirname, '../../../../shared/corpora/providers/embeddings_cases.json');
const OPENAI_KEY = 'sk-embed-corpus-SECRET-0123456789abcdef';
const GEMINI_KEY = 'AIzaEMBED-not-a-real-key-0123456789';

interface CaseExpect {
  count?: number;
  dimensions?: number[];
  first_values?: number[];
  embeddings?: number[][];
  usage?: { prompt_tokens?: number; total_tokens?: number };
  token_counts?: number[];
  metadata?: { billableCharacterCount?: number };
  model?: string;
  error_class?: string;
  status?: number;
  error_status?: string;
  error_message?: string;
  error_type?: string;
  error_code?: string | null;
  error_info_reason?: string;
}

interface EmbeddingCase extends RecordedWireResponse {
  name: string;
  kind: 'response' | 'error';
  request_hint: { method: string; path: string; body?: Record<string, unknown> };
  expect: CaseExpect;
  sequence?: RecordedWireResponse[];
}

const cases = (JSON.parse(readFileSync(CORPUS, 'utf8')) as { cases: EmbeddingCase[] }).cases;

type Family = 'openai' | 'gemini' | 'vertex';

/** Which API a case records, from its path. */
function familyOf(c: EmbeddingCase): Family {
  const path = c.request_hint.path;
  if (path.endsWith('/embeddings')) return 'openai';
  if (path.endsWith(':predict') || /\/publishers\//.test(path)) return 'vertex';
  if (/:(batchEmbedContents|embedContent)$/.test(path)) return 'gemini';
  throw new Error(`corpus case ${c.name}: no embedder for path ${path}`);
}

/** The model a case names (body, then path); a `{model}` placeholder becomes a Vertex text model. */
function modelOf(c: EmbeddingCase): string {
  const fromBody = c.request_hint.body?.['model'];
  if (typeof fromBody === 'string') return fromBody.replace(/^models\//, '');
  const fromPath = /\/models\/([^/:]+):/.exec(c.request_hint.path)?.[1];
  if (fromPath === undefined || fromPath === '{model}') return 'text-embedding-005';
  return fromPath;
}

/** The texts a case sent, else as many placeholder texts as vectors it expects. */
function textsOf(c: EmbeddingCase): string[] {
  const body = c.request_hint.body ?? {};
  const input = body['input'];
  if (typeof input === 'string') return [input];
  if (Array.isArray(input)) return input.map(String);
  const requests = body['requests'];
  if (Array.isArray(requests)) {
    return requests.map((r) => ((r as { content?: { parts?: Array<{ text?: string }> } }).content?.parts ?? []).map((p) => p.text ?? '').join(''));
  }
  const instances = body['instances'];
  if (Array.isArray(instances)) return instances.map((i) => String((i as { content?: unknown }).content ?? ''));
  return Array.from({ length: c.expect.count ?? 1 }, (_, i) => `corpus case ${c.name} text ${i}`);
}

/** The recorded payload's vectors, decoded here independently of the embedders. */
function payloadVectors(c: EmbeddingCase, response: RecordedWireResponse): number[][] {
  const body = (response.body ?? JSON.parse(response.raw_body ?? 'null')) as Record<string, unknown>;
  if (Array.isArray(body['data'])) {
    return (body['data'] as Array<{ embedding: string | number[] }>).map(({ embedding }) => {
      if (Array.isArray(embedding)) return embedding;
      const bytes = Buffer.from(embedding, 'base64');
      return Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
    });
  }
  if (Array.isArray(body['embeddings'])) return (body['embeddings'] as Array<{ values: number[] }>).map((e) => e.values);
  if (Array.isArray(body['predictions'])) return (body['predictions'] as Array<{ embeddings: { values: number[] } }>).map((p) => p.embeddings.values);
  throw new Error(`corpus case ${c.name}: no vectors in its payload`);
}

const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** A clock whose waits pass at once (and are counted), for cases that replay a retry sequence. */
function instantClock(): Clock & { slept: number[] } {
  let now = 1_700_000_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    setTimer: (ms, fn) => {
      const handle = setTimeout(fn, 0);
      return { cancel: () => clearTimeout(handle) };
    },
  };
}

/** The code our mapping gives an HTTP failure, from the status and what the body says. */
function expectedCode(family: Family, e: CaseExpect): ProviderErrorCode {
  const status = e.status ?? 0;
  const authReason = e.error_info_reason !== undefined && /API_KEY|CREDENTIALS|TOKEN/.test(e.error_info_reason);
  if (status === 401 || status === 403 || authReason || e.error_code === 'invalid_api_key') return ProviderErrorCodes.authFailed;
  if (status === 404) return ProviderErrorCodes.modelNotFound;
  if (status === 429) return family === 'openai' && e.error_code === 'insufficient_quota' ? ProviderErrorCodes.insufficientBalance : ProviderErrorCodes.rateLimited;
  if (status === 408 && family !== 'openai') return ProviderErrorCodes.timeout;
  if (status >= 500 || status === 408 || status === 409) return ProviderErrorCodes.unavailable;
  return ProviderErrorCodes.badRequest;
}

let openaiServer: Awaited<ReturnType<typeof startFakeOpenAIServer>>;
let geminiServer: Awaited<ReturnType<typeof startFakeGeminiServer>>;
const ran = new Set<string>();

beforeAll(async () => {
  openaiServer = await startFakeOpenAIServer();
  geminiServer = await startFakeGeminiServer();
});
afterAll(async () => {
  await openaiServer.close();
  await geminiServer.close();
  console.log(`embeddings corpus: ${ran.size}/${cases.length} cases run`);
});

function embedderFor(c: EmbeddingCase, family: Family, count: number, clock: Clock): OpenAIEmbedder | GeminiEmbedder {
  const attempts = c.sequence?.length ?? 1;
  const common = {
    model: modelOf(c),
    // The length the case's vectors have (errors: any length; the call fails before it matters).
    dimensions: c.expect.dimensions?.[0] ?? 1536,
    // Replays ask what the recording asked: no dimension on the wire.
    sendDimensions: false,
    maxBatchSize: Math.max(1, count),
    retry: { maxAttempts: attempts, baseDelayMs: 10, maxDelayMs: 10, maxElapsedMs: 600_000 },
    clock,
    timeoutMs: 10_000,
  };
  if (family === 'openai') {
    const format = c.request_hint.body?.['encoding_format'];
    return new OpenAIEmbedder({ ...common, apiKey: OPENAI_KEY, baseURL: openaiServer.openaiBaseUrl, encodingFormat: format === 'float' ? 'float' : 'base64' });
  }
  return new GeminiEmbedder({ ...common, apiKey: GEMINI_KEY, baseUrl: geminiServer.baseUrl, vertex: family === 'vertex' });
}

function serverFor(family: Family): FakeHttpServer {
  return family === 'openai' ? openaiServer : geminiServer;
}

describe('embeddings corpus: every recorded case through our embedders and the real SDKs', () => {
  it('has cases of every family', () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(new Set(cases.map(familyOf))).toEqual(new Set(['openai', 'gemini', 'vertex']));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const family = familyOf(c);
    const server = serverFor(family);
    const responses = c.sequence ?? [c];
    const final = responses[responses.length - 1] as RecordedWireResponse;
    const texts = textsOf(c);
    const clock = instantClock();
    const embedder = embedderFor(c, family, texts.length, clock);
    const before = server.requests.length;
    server.enqueue(...responses.map(fakeResponseFromRecording));

    let result: EmbeddingResult | undefined;
    let error: unknown;
    try {
      result = await embedder.embedWithUsage(texts);
    } catch (err) {
      error = err;
    }

    // The SDK asked what the recording asked: the same method on the same model.
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(responses.length);
    const path = (sent[0]?.url ?? '').split('?')[0] ?? '';
    const method = /[:/]([A-Za-z]+)$/.exec(c.request_hint.path)?.[1];
    expect(path.endsWith(`${method === 'embeddings' ? '/' : ':'}${method}`)).toBe(true);
    if (family === 'openai') {
      const body = sent[0]?.body as Record<string, unknown>;
      expect(body['model']).toBe(c.request_hint.body?.['model']);
      expect(body['encoding_format']).toBe(c.request_hint.body?.['encoding_format'] ?? 'base64');
    } else {
      expect(path).toContain(`/models/${modelOf(c)}:`);
    }

    if (c.kind === 'error') {
      expect(result).toBeUndefined();
      expect(error instanceof OperationalError || error instanceof UserError).toBe(true);
      const e = error as OperationalError | UserError;
      const key = family === 'openai' ? OPENAI_KEY : GEMINI_KEY;
      expect(`${e.message} ${JSON.stringify(e.details)} ${String((e.cause as Error | undefined)?.message)}`).not.toContain(key);
      expect(e.code).toBe(expectedCode(family, c.expect));
      expect(e.details?.['status']).toBe(c.expect.status ?? final.http_status);
      if (c.expect.error_message !== undefined) expect(e.message).toContain(c.expect.error_message);
      if (c.expect.error_code) expect(e.details?.['providerCode']).toBe(c.expect.error_code);
      if (c.expect.error_type !== undefined) expect(e.details?.['providerType']).toBe(c.expect.error_type);
      if (c.expect.error_status !== undefined) expect(e.details?.['providerCode']).toBe(c.expect.error_status);
      if (c.expect.error_info_reason !== undefined) expect(e.details?.['reason']).toBe(c.expect.error_info_reason);
      if (e.code === ProviderErrorCodes.authFailed) {
        expect(e.details?.['keyVariable']).toBe(family === 'openai' ? 'OPENAI_API_KEY' : 'GEMINI_API_KEY');
      }
    } else {
      if (error !== undefined) throw error;
      const { vectors, usage } = result as EmbeddingResult;
      const payload = payloadVectors(c, final);
      expect(vectors).toHaveLength(c.expect.count ?? payload.length);
      if (c.expect.dimensions !== undefined) expect(vectors.map((v) => v.length)).toEqual(c.expect.dimensions);
      // A client sees the payload's vectors, L2-normalised.
      vectors.forEach((vector, i) => {
        expect(norm(vector)).toBeCloseTo(1, 6);
        const scale = norm(payload[i] ?? []);
        (payload[i] ?? []).forEach((value, j) => expect(vector[j]).toBeCloseTo(value / scale, 6));
      });
      c.expect.first_values?.forEach((value, j) => expect((vectors[0]?.[j] ?? NaN) * norm(payload[0] ?? [])).toBeCloseTo(value, 6));
      c.expect.embeddings?.forEach((expected, i) => {
        expected.forEach((value, j) => expect((vectors[i]?.[j] ?? NaN) * norm(expected)).toBeCloseTo(value, 6));
      });
      if (c.expect.usage?.prompt_tokens !== undefined) expect(usage.inputTokens).toBe(c.expect.usage.prompt_tokens);
      if (c.expect.token_counts !== undefined) expect(usage.inputTokens).toBe(c.expect.token_counts.reduce((a, b) => a + b, 0));
      if (c.expect.metadata?.billableCharacterCount !== undefined) {
        expect(usage.billableCharacters).toBe(c.expect.metadata.billableCharacterCount);
      }
      if (c.expect.model !== undefined) expect(embedder.id).toBe(`openai:${c.expect.model}:${vectors[0]?.length}`);
    }
    // A retry sequence waited between its attempts, on the injected clock.
    expect(clock.slept).toHaveLength(responses.length - 1);
    ran.add(c.name);
  });
});
