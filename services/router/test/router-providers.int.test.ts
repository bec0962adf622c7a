/**
 * The router with real provider adapters (the official SDKs) against local fake servers that
 * speak DeepSeek's (OpenAI-compatible) and Gemini's wire formats: a 429 with a retry delay is
 * retried after that delay, a failing primary falls back to the next model (and the ledger
 * credits the model that answered), and no key ever reaches a log line. The fakes replay
 * scripted replies, labelled as such: nothing here is a model.
 */
import { randomUUID } from 'node:crypto';
import { ChatMessage, ClassifyIntentRequest, CompleteRequest, type CompleteResponse, type IntentClassification, type RouterServiceClient } from '@maestro/contracts';
import { FinishReasons, type CompletionResult } from '@maestro/llm';
import type { PostgresUsageLedger } from '../src/store/postgres-usage-ledger.js';
import { startRouterOverFakes, type RouterOverFakes } from './router-over-fakes.js';

const DEEPSEEK_KEY = 'sk-deepseek-test-key-never-logged';
const GEMINI_KEY = 'gemini-test-key-never-logged';

function reply(content: string): CompletionResult {
  return {
    message: { role: 'assistant', content },
    usage: { inputTokens: 50, outputTokens: 5, cachedInputTokens: 20 },
    finishReason: FinishReasons.stop,
    scripted: true,
  };
}

let router: RouterOverFakes;
let client: RouterServiceClient;
let ledger: PostgresUsageLedger;
let gemini: RouterOverFakes['gemini'];
let deepseek: RouterOverFakes['deepseek'];
let logText: string[];
const deepseekArrivals: number[] = [];
let deepseekDown = false;

beforeAll(async () => {
  router = await startRouterOverFakes({
    name: 'router-providers',
    deepseekReply: async () => {
      deepseekArrivals.push(Date.now());
      if (deepseekDown) throw new Error('fake outage');
      return reply('from the deepseek wire');
    },
    geminiReply: async (request) =>
      request.messages[0]?.content.startsWith('You classify what a software task asks for')
        ? reply('```json\n{"intent": "explain", "confidence": 0.85, "reason": "asks how the retry logic works"}\n```')
        : reply('from the gemini wire'),
    env: {
      MAESTRO_STRATEGIC_MODEL: 'gemini:gemini-2.5-pro',
      MAESTRO_TACTICAL_MODEL: 'deepseek:deepseek-chat',
      MAESTRO_TACTICAL_FALLBACK: 'gemini:gemini-2.5-flash',
      DEEPSEEK_API_KEY: DEEPSEEK_KEY,
      GEMINI_API_KEY: GEMINI_KEY,
      MAESTRO_PROVIDER_MAX_ATTEMPTS: '2',
      MAESTRO_PROVIDER_RETRY_MAX_MS: '5000',
    },
  });
  ({ client, ledger, gemini, deepseek, logText } = router);
});

afterAll(async () => {
  await router?.stop();
});

const complete = (request: CompleteRequest): Promise<CompleteResponse> =>
  new Promise((resolve, reject) => client.complete(request, (err, res) => (err ? reject(err) : resolve(res))));

const codeRequest = (taskId: string) =>
  CompleteRequest.fromPartial({ intent: 'code', taskId, subtaskId: 's1', attempt: 1, messages: [ChatMessage.fromPartial({ role: 'user', content: 'add a sum function' })] });

it('retries a 429 after the delay the provider asked for, through the real DeepSeek adapter', async () => {
  deepseekArrivals.length = 0;
  deepseek.enqueue({
    status: 429,
    headers: { 'retry-after-ms': '600' },
    body: { error: { message: 'Rate limit reached', type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null } },
  });
  const started = Date.now();
  const response = await complete(codeRequest(`task-${randomUUID()}`));
  expect(response.message?.content).toBe('from the deepseek wire');
  expect(response.decision).toMatchObject({ spec: 'deepseek:deepseek-chat', scripted: true });
  expect(response.servedBy).toBe('');
  expect(response.usage).toMatchObject({ inputTokens: 50, cachedInputTokens: 20, outputTokens: 5, priced: true });
  // The second request came only after the provider's 600 ms.
  expect(deepseekArrivals).toHaveLength(1);
  expect(deepseekArrivals[0]! - started).toBeGreaterThanOrEqual(600);
  expect(logText.join('')).toContain('provider call retried');
});

it('falls back to the next model while the primary fails, and accounts the call to the model that answered', async () => {
  deepseekDown = true;
  try {
    const taskId = `task-${randomUUID()}`;
    const response = await complete(codeRequest(taskId));
    expect(response.message?.content).toBe('from the gemini wire');
    expect(response.servedBy).toBe('gemini:gemini-2.5-flash');
    expect(response.decision?.fallbacks).toEqual(['gemini:gemini-2.5-flash']);
    const usage = await ledger.taskUsage(taskId);
    expect(usage.byModel.map((m) => m.spec)).toEqual(['gemini:gemini-2.5-flash']);
    expect(gemini.decoded.at(-1)?.model).toBe('gemini-2.5-flash');
  } finally {
    deepseekDown = false;
  }
});

it('asks the strategic model over the Gemini wire about a goal the classifier is unsure of, and accounts the call to the classify phase', async () => {
  const classify = (text: string): Promise<IntentClassification> =>
    new Promise((resolve, reject) => client.classifyIntent(ClassifyIntentRequest.fromPartial({ text }), (err, res) => (err ? reject(err) : resolve(res))));
  const before = gemini.decoded.length;
  const sure = await classify('fix the crash when the config file is missing');
  expect(sure).toMatchObject({ intent: 'fix', decidedBy: 'rules' });
  expect(gemini.decoded.length).toBe(before);

  const unsure = await classify('look at the retry logic');
  expect(unsure).toMatchObject({ intent: 'explain', confidence: 0.85, workflow: 'explain', decidedBy: 'gemini:gemini-2.5-pro' });
  expect(unsure.reason).toMatch(/^gemini:gemini-2\.5-pro: asks how the retry logic works \(the classifier said code at 0\.\d\d\)$/);
  expect(gemini.decoded.length).toBe(before + 1);
  const stats = await ledger.modelStats('classify');
  expect(stats.map((s) => [s.spec, s.totals.calls])).toEqual([['gemini:gemini-2.5-pro', 1]]);
});

it('never writes a key into a log line', () => {
  const text = logText.join('');
  expect(text.length).toBeGreaterThan(0);
  expect(text).not.toContain(DEEPSEEK_KEY);
  expect(text).not.toContain(GEMINI_KEY);
});
