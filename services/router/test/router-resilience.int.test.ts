/**
 * The router's resilience end to end: real router code over a real gRPC server, the real
 * provider adapters (the official `openai` and `@google/genai` SDKs) against local fake
 * DeepSeek and Gemini servers over HTTP, the real NATS server and a fresh PostgreSQL ledger.
 *
 * - A caller that cancels `Complete` or `StreamComplete` mid-request gets CANCELLED, and the
 *   router aborts the upstream HTTP request: the fake server sees its connection close.
 * - A 429 with a plain `Retry-After` (seconds) on the DeepSeek path, and a Gemini 429 with
 *   `google.rpc.RetryInfo`, are retried after the delay the provider asked for and succeed.
 *   The router's clock is injected: its waits are recorded and return at once, so the asked
 *   delay is asserted and never slept.
 * - Concurrent agents of one task share its USD budget: together they overspend by at most one
 *   call each, and every refused call answers BUDGET_EXHAUSTED with the totals.
 *
 * The fakes replay scripted replies (labelled as such, except where a test needs a priced reply
 * and says so): nothing here is a model.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { ChatMessage, CompleteRequest, RouterServiceClient, type CompleteChunk, type CompleteResponse, type TaskUsage } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';
import { FakeServerHeaders, FinishReasons, SCRIPTED_REPLY, type CompletionRequest, type CompletionResult } from '@maestro/llm';
import { createSilentLogger, ErrorMetadataKeys, systemClock, type Clock, type GrpcServer, type Timer } from '@maestro/runtime';
import {
  fakeResponseFromRecording,
  fromChatCompletionsBody,
  GEMINI_SSE_SEPARATOR,
  startFakeHttpServer,
  toChatCompletionBody,
  toChatCompletionChunks,
  toGeminiWireChunks,
  waitUntil,
  type FakeGeminiServer,
  type FakeHttpServer,
  type FakeResponse,
  type FakeOpenAIServer,
  type RecordedRequest,
  type RecordedWireResponse,
} from '@maestro/testing';
import { loadRouterConfig } from '../src/config.js';
import { createRouterServer } from '../src/router-server.js';
import type { PostgresUsageLedger } from '../src/store/postgres-usage-ledger.js';
import { startRouterOverFakes, type RouterOverFakes } from './router-over-fakes.js';

/** The provider corpora, beside the checkout: <repo>/../shared/corpora/providers. */
const CORPORA = join(__dirname, '../../../..', 'shared', 'corpora', 'providers');

/** How long a test waits for the upstream to see its request closed: well under the provider timeout below. */
const CLOSE_SEEN_WITHIN_MS = 10_000;

type Reply = (request: CompletionRequest) => Promise<CompletionResult>;

function reply(content: string, usage: CompletionResult['usage'] = { inputTokens: 50, outputTokens: 5 }): CompletionResult {
  return { message: { role: 'assistant', content }, usage, finishReason: FinishReasons.stop, scripted: true };
}

/**
 * The wall clock, except that waits are recorded and return at once: the retry layer's delay is
 * read here instead of being slept (timers still run on the wall clock).
 */
class RecordingClock implements Clock {
  readonly sleeps: number[] = [];

  now(): number {
    return systemClock.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return signal?.aborted === true ? Promise.reject(signal.reason) : Promise.resolve();
  }

  setTimer(ms: number, fn: () => void): Timer {
    return systemClock.setTimer(ms, fn);
  }
}

/** A reply the fake holds open (no response headers) until released: a model still thinking. */
function heldReply(content: string): { reply: Reply; arrived: Promise<void>; release: () => void } {
  let arrive!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    arrived,
    release,
    reply: async () => {
      arrive();
      await released;
      return reply(content);
    },
  };
}

let router: RouterOverFakes;
let bus: Bus;
let ledger: PostgresUsageLedger;
let deepseek: FakeOpenAIServer;
let gemini: FakeGeminiServer;
let deepseekReply: Reply = async () => reply('from the deepseek wire');
let geminiReply: Reply = async () => reply('from the gemini wire');
const clock = new RecordingClock();
let logLines: Array<Record<string, unknown>>;
let client: RouterServiceClient;

beforeAll(async () => {
  router = await startRouterOverFakes({
    name: 'router-resilience',
    deepseekReply: (request) => deepseekReply(request),
    geminiReply: (request) => geminiReply(request),
    clock,
    maxConnections: 8,
    env: {
      // plan → Gemini, code → DeepSeek; no fallbacks, so nothing hides a failure of either.
      MAESTRO_STRATEGIC_MODEL: 'gemini:gemini-2.5-pro',
      MAESTRO_TACTICAL_MODEL: 'deepseek:deepseek-chat',
      DEEPSEEK_API_KEY: 'sk-deepseek-test-key',
      GEMINI_API_KEY: 'gemini-test-key',
      // A held request outlives the tests' wait for its close by far (a stream's silence: 20 s).
      MAESTRO_PROVIDER_TIMEOUT_MS: '40000',
      MAESTRO_PROVIDER_MAX_ATTEMPTS: '3',
      // Room for every delay a recorded 429 asks for (the waits are recorded, not slept).
      MAESTRO_PROVIDER_RETRY_MAX_MS: '120000',
    },
  });
  ({ client, bus, ledger, deepseek, gemini, logLines } = router);
});

afterAll(async () => {
  await router?.stop();
});

const complete = (request: CompleteRequest): Promise<CompleteResponse> =>
  new Promise((resolve, reject) => client.complete(request, (err, res) => (err ? reject(err) : resolve(res))));

/** A `plan` call is routed to Gemini, a `code` call to DeepSeek. */
const Paths = {
  deepseek: { intent: 'code', spec: 'deepseek:deepseek-chat' },
  gemini: { intent: 'plan', spec: 'gemini:gemini-2.5-pro' },
} as const;
type PathName = keyof typeof Paths;

const requestFor = (path: PathName, taskId: string) =>
  CompleteRequest.fromPartial({ intent: Paths[path].intent, taskId, messages: [ChatMessage.fromPartial({ role: 'user', content: 'add a sum function' })] });

const fakeOf = (path: PathName): FakeHttpServer => (path === 'deepseek' ? deepseek : gemini);

function setReply(path: PathName, next: Reply): () => void {
  if (path === 'deepseek') {
    const previous = deepseekReply;
    deepseekReply = next;
    return () => (deepseekReply = previous);
  }
  const previous = geminiReply;
  geminiReply = next;
  return () => (geminiReply = previous);
}

/**
 * A streamed reply that sends its first content and then stalls without ending: the router has
 * a delta to pass on while the upstream response is still open.
 */
function stalledStream(path: PathName): void {
  const result = reply('one, two, three, four');
  if (path === 'deepseek') {
    deepseek.enqueue({
      headers: { [FakeServerHeaders.reply]: SCRIPTED_REPLY, 'content-type': 'text/event-stream' },
      sseEvents: toChatCompletionChunks(result, { model: 'deepseek-chat', includeUsage: true }),
      // The role chunk, then the first content delta.
      stallAfterEvents: 2,
    });
  } else {
    gemini.enqueue({
      headers: { [FakeServerHeaders.reply]: SCRIPTED_REPLY, 'content-type': 'text/event-stream' },
      sseEvents: toGeminiWireChunks(result, 'gemini-2.5-pro').map((chunk) => `data: ${JSON.stringify(chunk)}`),
      separator: GEMINI_SSE_SEPARATOR,
      stallAfterEvents: 1,
    });
  }
}

/** Resolves once the router has logged the failure of `taskId`'s call, with its code. */
async function failureLogged(taskId: string): Promise<Record<string, unknown>> {
  let line: Record<string, unknown> | undefined;
  await waitUntil(`the router to log the failed call of ${taskId}`, () => {
    line = logLines.find((l) => l.msg === 'completion failed' && l.taskId === taskId);
    return line !== undefined;
  }, CLOSE_SEEN_WITHIN_MS);
  return line!;
}

describe('a caller that cancels mid-request', () => {
  it.each(['deepseek', 'gemini'] as const)(
    'Complete on the %s path: the caller gets CANCELLED and the upstream request is closed',
    async (path) => {
      const taskId = `task-${randomUUID()}`;
      const held = heldReply('too late');
      const restore = setReply(path, held.reply);
      try {
        let settle!: (err: ServiceError | null) => void;
        const answered = new Promise<ServiceError | null>((resolve) => (settle = resolve));
        const call = client.complete(requestFor(path, taskId), (err) => settle(err));
        await held.arrived;
        const upstream = fakeOf(path).requests.at(-1) as RecordedRequest;
        expect(upstream.aborted).toBe(false);

        call.cancel();
        expect((await answered)?.code).toBe(status.CANCELLED);
        await waitUntil(`the ${path} fake server to see the request closed`, () => upstream.aborted, CLOSE_SEEN_WITHIN_MS);
        // The router ended the call as cancelled by its caller (not by a timeout, not by an error upstream).
        expect(await failureLogged(taskId)).toMatchObject({ code: 'PROVIDER_CALL_CANCELLED', provider: path });
      } finally {
        restore();
        held.release();
      }
    },
    30_000,
  );

  it.each(['deepseek', 'gemini'] as const)(
    'StreamComplete on the %s path, after the first delta: the caller gets CANCELLED and the upstream stream is closed',
    async (path) => {
      const taskId = `task-${randomUUID()}`;
      stalledStream(path);
      const call = client.streamComplete(requestFor(path, taskId));
      const deltas: string[] = [];
      const ended = new Promise<ServiceError | undefined>((resolve) => {
        call.on('error', (err: ServiceError) => resolve(err));
        call.on('end', () => resolve(undefined));
      });
      const firstDelta = new Promise<void>((resolve) =>
        call.on('data', (chunk: CompleteChunk) => {
          if (chunk.contentDelta !== undefined) {
            deltas.push(chunk.contentDelta);
            resolve();
          }
        }),
      );
      await Promise.race([firstDelta, ended.then(() => Promise.reject(new Error('the stream ended before its first delta')))]);
      const upstream = fakeOf(path).requests.at(-1) as RecordedRequest;
      expect(upstream.aborted).toBe(false);

      call.cancel();
      expect((await ended)?.code).toBe(status.CANCELLED);
      expect(deltas.join('')).not.toBe('one, two, three, four');
      await waitUntil(`the ${path} fake server to see the stream closed`, () => upstream.aborted, CLOSE_SEEN_WITHIN_MS);
      expect(await failureLogged(taskId)).toMatchObject({ code: 'PROVIDER_CALL_CANCELLED', provider: path });
    },
    30_000,
  );
});

interface CorpusCase extends RecordedWireResponse {
  name: string;
  kind: string;
}

function corpusCases(file: string): CorpusCase[] {
  const parsed = JSON.parse(readFileSync(join(CORPORA, file), 'utf8')) as { cases?: CorpusCase[] } | CorpusCase[];
  return Array.isArray(parsed) ? parsed : (parsed.cases ?? []);
}

function headerOf(recording: RecordedWireResponse, name: string): string | undefined {
  return Object.entries(recording.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
}

/** A recorded OpenAI 429 that asks for its delay with a plain `Retry-After` in seconds (and nothing finer). */
function recordedRetryAfter429(): { recording: CorpusCase; delayMs: number } {
  const recording = corpusCases('openai_chat_cases.json').find(
    (c) => c.http_status === 429 && /^\d+$/.test(headerOf(c, 'retry-after') ?? '') && headerOf(c, 'retry-after-ms') === undefined,
  );
  if (recording === undefined) throw new Error('openai_chat_cases.json holds no 429 with a plain Retry-After header');
  return { recording, delayMs: Number(headerOf(recording, 'retry-after')) * 1000 };
}

/** A recorded Gemini 429 whose body carries `google.rpc.RetryInfo`. */
function recordedRetryInfo429(): { recording: CorpusCase; delayMs: number } {
  for (const c of corpusCases('gemini_cases.json')) {
    if (c.http_status !== 429) continue;
    const details = (c.body as { error?: { details?: Array<Record<string, unknown>> } } | undefined)?.error?.details ?? [];
    const retryDelay = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.['retryDelay'];
    const seconds = typeof retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(retryDelay)?.[1] : undefined;
    if (seconds !== undefined) return { recording: c, delayMs: Math.round(Number(seconds) * 1000) };
  }
  throw new Error('gemini_cases.json holds no 429 with a RetryInfo retryDelay');
}

describe('a 429 that says how long to wait', () => {
  /** Serves `first` to the next request on `path`, makes one call, and reports what the router did. */
  async function callThrough429(path: PathName, first: FakeResponse) {
    const fake = fakeOf(path);
    const requestsBefore = fake.requests.length;
    const sleepsBefore = clock.sleeps.length;
    const logsBefore = logLines.length;
    fake.enqueue(first);
    const response = await complete(requestFor(path, `task-${randomUUID()}`));
    return {
      response,
      requests: fake.requests.length - requestsBefore,
      sleeps: clock.sleeps.slice(sleepsBefore),
      retries: logLines.slice(logsBefore).filter((l) => l.msg === 'provider call retried'),
    };
  }

  const recordedOpenAI = recordedRetryAfter429();

  // `Retry-After: 1` asks for 1000 ms, which is also the first backoff: the recorded case (30 s)
  // is the one that tells the asked delay from the backoff.
  it.each<[string, FakeResponse, number]>([
    ['Retry-After: 1', { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } }, 1000],
    [`the recorded ${recordedOpenAI.recording.name}`, fakeResponseFromRecording(recordedOpenAI.recording), recordedOpenAI.delayMs],
  ])('DeepSeek path, %s: retried once after the asked delay, then answered', async (_name, first, delayMs) => {
    const done = await callThrough429('deepseek', first);
    expect(done.response.message?.content).toBe('from the deepseek wire');
    expect(done.response.decision?.spec).toBe(Paths.deepseek.spec);
    expect(done.requests).toBe(2);
    expect(done.sleeps).toEqual([delayMs]);
    expect(done.retries).toEqual([expect.objectContaining({ spec: Paths.deepseek.spec, attempt: 1, delayMs, code: 'PROVIDER_RATE_LIMITED' })]);
  }, 30_000);

  it('Gemini path, a recorded 429 with RetryInfo: retried once after its retryDelay, then answered', async () => {
    const { recording, delayMs } = recordedRetryInfo429();
    expect(delayMs).not.toBe(1000); // not the backoff: the delay must come from RetryInfo
    const done = await callThrough429('gemini', fakeResponseFromRecording(recording));
    expect(done.response.message?.content).toBe('from the gemini wire');
    expect(done.response.decision?.spec).toBe(Paths.gemini.spec);
    expect(done.requests).toBe(2);
    expect(done.sleeps).toEqual([delayMs]);
    expect(done.retries).toEqual([expect.objectContaining({ spec: Paths.gemini.spec, attempt: 1, delayMs, code: 'PROVIDER_RATE_LIMITED' })]);
  }, 30_000);
});

describe('concurrent agents of one task', () => {
  const AGENTS = 6;
  const BUDGET_USD = 0.03;
  /** Calls one agent makes at most: far more than the budget allows, so a missing check ends the test. */
  const MOST_CALLS_PER_AGENT = 40;

  let priced: FakeHttpServer;
  let pricedServer: GrpcServer;
  let pricedClient: RouterServiceClient;

  beforeAll(async () => {
    // DeepSeek's wire without the scripted label: the router prices these replies at
    // deepseek-chat's rates (a labelled reply costs nothing), so a USD budget can run out.
    // Usage differs from call to call, so the largest call is not every call.
    let served = 0;
    priced = await startFakeHttpServer(async (recorded) => {
      const { request } = fromChatCompletionsBody(recorded.body, recorded.headers);
      const n = served++;
      await new Promise((resolve) => setTimeout(resolve, (n % 3) * 15));
      const usage = { inputTokens: 4_000 + (n % 4) * 3_000, outputTokens: 500 + (n % 3) * 250 };
      return { body: toChatCompletionBody({ ...reply(`priced reply ${n}`, usage), scripted: false }, { model: request.model, id: `chatcmpl-priced-${n}` }) };
    });
    const config = loadRouterConfig({
      MAESTRO_ROUTER_GRPC_ADDR: '127.0.0.1:0',
      MAESTRO_STRATEGIC_MODEL: 'deepseek:deepseek-reasoner',
      MAESTRO_TACTICAL_MODEL: 'deepseek:deepseek-chat',
      DEEPSEEK_API_KEY: 'sk-deepseek-test-key',
      MAESTRO_DEEPSEEK_BASE_URL: `${priced.baseUrl}/v1`,
    });
    ({ server: pricedServer } = createRouterServer(config, { ledger, bus, logger: createSilentLogger() }));
    const port = await pricedServer.start();
    pricedClient = new RouterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    pricedClient?.close();
    await pricedServer?.shutdown();
    await priced?.close();
  });

  it('share its USD budget: they overspend by at most one call each, and each refused call answers BUDGET_EXHAUSTED with the totals', async () => {
    const taskId = `task-${randomUUID()}`;
    const call = (agent: number): Promise<CompleteResponse> =>
      new Promise((resolve, reject) =>
        pricedClient.complete(
          CompleteRequest.fromPartial({
            intent: 'code',
            taskId,
            subtaskId: `s${agent}`,
            attempt: 1,
            budgetUsd: BUDGET_USD,
            messages: [ChatMessage.fromPartial({ role: 'user', content: `agent ${agent}: add a sum function` })],
          }),
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
    /** One agent: calls until its task's budget refuses it; its answers and the refusal. */
    const agent = async (id: number): Promise<{ answers: CompleteResponse[]; refusal: ServiceError }> => {
      const answers: CompleteResponse[] = [];
      for (let i = 0; i < MOST_CALLS_PER_AGENT; i++) {
        try {
          answers.push(await call(id));
        } catch (err) {
          return { answers, refusal: err as ServiceError };
        }
      }
      throw new Error(`agent ${id} made ${MOST_CALLS_PER_AGENT} calls and was never refused: the budget is not enforced`);
    };

    const requestsBefore = priced.requests.length;
    // All agents start at once: their first calls all pass the check before any is recorded.
    const agents = await Promise.all(Array.from({ length: AGENTS }, (_, id) => agent(id)));
    const answers = agents.flatMap((a) => a.answers);
    const costs = answers.map((a) => a.usage?.costUsd ?? Number.NaN);
    expect(answers.every((a) => a.usage?.priced === true && a.decision?.scripted === false)).toBe(true);
    const largest = Math.max(...costs);
    expect(largest).toBeGreaterThan(0);

    const usage = await new Promise<TaskUsage>((resolve, reject) => pricedClient.getTaskUsage({ taskId }, (e, r) => (e ? reject(e) : resolve(r))));
    const spent = usage.total?.costUsd ?? Number.NaN;
    // The ledger holds every answered call, and only those: refused calls never reached the provider.
    expect(usage.total?.calls).toBe(answers.length);
    expect(spent).toBeCloseTo(costs.reduce((sum, c) => sum + c, 0), 9);
    expect(priced.requests.length - requestsBefore).toBe(answers.length);
    // Some calls fit, then the budget ran out; each agent overspent by at most its one call in flight.
    expect(answers.length).toBeGreaterThan(AGENTS);
    expect(spent).toBeGreaterThanOrEqual(BUDGET_USD);
    expect(spent).toBeLessThanOrEqual(BUDGET_USD + AGENTS * largest);

    for (const { refusal } of agents) {
      expect(refusal.code).toBe(status.FAILED_PRECONDITION);
      expect(refusal.metadata.get(ErrorMetadataKeys.code)).toEqual(['BUDGET_EXHAUSTED']);
      const totals = new RegExp(`^task ${taskId} has spent its budget \\(\\$(\\d+\\.\\d{4}) of \\$${BUDGET_USD.toFixed(4).replace('.', '\\.')}\\)`).exec(refusal.details);
      expect(totals).not.toBeNull();
      const said = Number(totals?.[1]);
      expect(said).toBeGreaterThanOrEqual(BUDGET_USD);
      expect(said).toBeLessThanOrEqual(Number(spent.toFixed(4)));
    }
  }, 60_000);
});
