/**
 * The loop with context condensing, memories and pinned facts, on real git repositories in temp
 * directories. The model is mostly a fake `ChatModel` that replays its turns by call count and
 * records every request it got (its input tokens are the request's, counted as the scripted
 * provider counts them); one test drives a condensing run with the stateless `ScriptedProvider`,
 * which counts the turns a condensed summary says it folded.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assistantTurns, o200kCounter, parseScript, providerError, ProviderErrorCodes, ScriptedProvider, type ChatMessage, type ToolCall } from '@maestro/llm';
import type { ChatModel, ChatModelRequest } from '../chat-model.js';
import { ModelSummariser } from '../context/model-summariser.js';
import { PINNED_FACTS_HEADER } from '../context/pinned-facts-message.js';
import { createDefaultToolRegistry } from '../default-tool-registry.js';
import { runAgentLoop, type AgentStep, type RunAgentLoopOptions } from '../agent-loop.js';
import { MEMORY_SECTION_TITLE } from './memory-prompt.js';
import { PIN_TOOL_NAME } from './pin-tool.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** One scripted turn: text, tool calls, or an error to throw instead of answering. */
interface Turn {
  content?: string;
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
  fail?: () => Error;
}

/** A fake model replaying `turns` by count (see the module comment), recording each request. */
function turnModel(turns: readonly Turn[]): ChatModel & { requests: ChatModelRequest[] } {
  const requests: ChatModelRequest[] = [];
  let next = 0;
  return {
    requests,
    async complete(request) {
      requests.push({ messages: request.messages.map((m) => ({ ...m })), tools: request.tools });
      const turn = turns[next++];
      if (turn === undefined) throw new Error(`script exhausted at call ${next}`);
      if (turn.fail !== undefined) throw turn.fail();
      const toolCalls: ToolCall[] = (turn.toolCalls ?? []).map((call, i) => ({ id: `call_${next}_${i}`, name: call.name, argumentsJson: JSON.stringify(call.arguments) }));
      const message: ChatMessage = { role: 'assistant', content: turn.content ?? '', ...(toolCalls.length > 0 ? { toolCalls } : {}) };
      return {
        message,
        usage: {
          inputTokens: o200kCounter.countMessageTokens(request.messages) + o200kCounter.countToolTokens(request.tools),
          outputTokens: o200kCounter.countTokens(message.content) + toolCalls.reduce((sum, c) => sum + o200kCounter.countTokens(c.argumentsJson), 10),
        },
        scripted: true,
        provider: 'scripted',
        model: 'scripted',
      };
    },
  };
}

const requestText = (request: ChatModelRequest): string =>
  request.messages.map((m) => `${m.content}\n${(m.toolCalls ?? []).map((c) => c.argumentsJson).join('\n')}`).join('\n');

/** A text file of about `tokens` o200k tokens, different for each `seed`. */
function bigText(seed: number, tokens: number): string {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  const lines: string[] = [];
  let count = 0;
  for (let line = 0; count < tokens; line++) {
    const text = `${seed}:${line} ${Array.from({ length: 12 }, (_, k) => words[(seed * 7 + line * 5 + k * 3) % words.length]).join(' ')} ${seed * 1000 + line}`;
    lines.push(text);
    count += o200kCounter.countTokens(text) + 1;
  }
  return `${lines.join('\n')}\n`;
}

function initRepo(prefix: string): string {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.email', 'test@example.com');
  git(repo, 'config', 'user.name', 'Test');
  return repo;
}

const read = (path: string) => ({ name: 'fs.read', arguments: { path } });
const stepKinds = (steps: readonly AgentStep[]) => steps.map((s) => `${s.kind}${s.tool ? `:${s.tool}` : ''}`);

describe('runAgentLoop with a long subtask', () => {
  let repo: string;
  const BIG_FILES = 5;
  const task = 'Fix add() in src/app.js so that app.test.js passes.\nDo not modify app.test.js.';
  const agentFact = 'The bug is in add(); the test is right.';
  const preference = 'Use 2-space indentation.';
  beforeAll(() => {
    repo = initRepo('maestro-long-');
    mkdirSync(join(repo, 'src'));
    mkdirSync(join(repo, 'logs'));
    writeFileSync(join(repo, 'src', 'app.js'), 'exports.add = (a, b) => a - b;\n');
    writeFileSync(
      join(repo, 'app.test.js'),
      ["const { test } = require('node:test');", "const assert = require('node:assert');", "const { add } = require('./src/app.js');", "test('add adds two numbers', () => assert.strictEqual(add(2, 3), 5));", ''].join('\n'),
    );
    for (let i = 0; i < BIG_FILES; i++) writeFileSync(join(repo, 'logs', `big-${i}.txt`), bigText(i, 4_000));
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'start');
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  /** 18 turns: a pin, ten big reads, a premature "done" (the tests fail), four more reads, the fix, "done". */
  const script = (): Turn[] => [
    { content: 'Pinning what I know.', toolCalls: [{ name: PIN_TOOL_NAME, arguments: { fact: agentFact } }] },
    ...Array.from({ length: 10 }, (_, i) => ({ content: `Reading log ${i % BIG_FILES}.`, toolCalls: [read(`logs/big-${i % BIG_FILES}.txt`)] })),
    { content: 'I think it works already.' },
    ...Array.from({ length: 4 }, (_, i) => ({ toolCalls: [read(`logs/big-${(i + 2) % BIG_FILES}.txt`)] })),
    { content: 'Fixing the sign.', toolCalls: [{ name: 'fs.write', arguments: { path: 'src/app.js', content: 'exports.add = (a, b) => a + b;\n' } }] },
    { content: 'add() now adds.' },
  ];
  const options = (model: ChatModel, steps: AgentStep[], policy: RunAgentLoopOptions['context']): RunAgentLoopOptions => ({
    model,
    tools: createDefaultToolRegistry(),
    workspace: repo,
    task,
    testCommand: ['node', '--test', 'app.test.js'],
    budget: { maxSteps: 30, maxTokens: 300_000 },
    pinnedFiles: ['src/app.js'],
    preferences: [preference],
    onStep: (step) => void steps.push(step),
    ...(policy !== undefined ? { context: policy } : {}),
  });

  it('runs out of tokens without condensing, and succeeds within the same budget with it, every pinned fact in every request', async () => {
    git(repo, 'checkout', '-q', '--', '.');
    const uncondensed = turnModel(script());
    const withoutSteps: AgentStep[] = [];
    // A trigger no request reaches: the history goes out whole every turn.
    const without = await runAgentLoop(options(uncondensed, withoutSteps, { policy: { windowTokens: 10_000_000, triggerTokens: 9_000_000 } }));
    expect(without).toMatchObject({ status: 'budget_exhausted', reason: expect.stringMatching(/^used \d+ of 300000 tokens$/) });
    expect(without.steps).toBeLessThan(18);
    expect(withoutSteps.some((s) => s.kind === 'condensation')).toBe(false);

    git(repo, 'checkout', '-q', '--', '.');
    const model = turnModel(script());
    const steps: AgentStep[] = [];
    const verdict = await runAgentLoop(options(model, steps, { policy: { triggerTokens: 12_000, targetTokens: 4_000, keepRecentObservations: 1 } }));
    expect(verdict).toMatchObject({ status: 'succeeded', summary: 'add() now adds.', steps: 18, filesChanged: ['src/app.js'], tests: { passed: true } });
    expect(verdict.usage.inputTokens + verdict.usage.outputTokens).toBeLessThan(300_000);
    expect(verdict.usage.inputTokens).toBe(model.requests.reduce((sum, r) => sum + o200kCounter.countMessageTokens(r.messages) + o200kCounter.countToolTokens(r.tools), 0));

    const condensations = steps.filter((s) => s.kind === 'condensation');
    expect(condensations.length).toBeGreaterThan(0);
    const spent = (v: typeof verdict) => v.usage.inputTokens + v.usage.outputTokens;
    console.log(
      `long subtask, budget 300000 tokens: without condensing ${without.status} after ${without.steps} turns (${spent(without)} tokens); ` +
        `with condensing ${verdict.status} in ${verdict.steps} turns (${spent(verdict)} tokens, ${condensations.length} condensations)`,
    );
    for (const step of condensations) {
      expect(step.condensation).toMatchObject({ trigger: 'budget', summarisedBy: 'rule', counted: 'estimate' });
      expect(step.condensation?.tokensAfter).toBeLessThan(step.condensation?.tokensBefore ?? 0);
    }
    // A condensation is reported right before the model turn it made the request for.
    for (const step of condensations) expect(steps[steps.indexOf(step) + 1]?.kind).toBe('model');

    // Every request carries every fact pinned by then, word for word.
    const always = ['Fix add() in src/app.js so that app.test.js passes.', 'Do not modify app.test.js.', 'src/app.js', preference];
    const failedAt = model.requests.findIndex((r) => r.messages.some((m) => m.content.startsWith('The tests failed')));
    expect(failedAt).toBe(12);
    model.requests.forEach((request, i) => {
      const text = requestText(request);
      const expected = [...always, ...(i >= 1 ? [agentFact] : []), ...(i >= failedAt ? ['add adds two numbers', 'Expected values to be strictly equal:'] : [])];
      for (const fact of expected) expect({ request: i, fact, present: text.includes(fact) }).toEqual({ request: i, fact, present: true });
    });
    // The late requests kept their facts although the messages that first said them were folded away.
    const last = model.requests.at(-1) as ChatModelRequest;
    expect(last.messages.some((m) => m.content.startsWith(PINNED_FACTS_HEADER))).toBe(true);
    expect(last.messages.some((m) => m.role === 'tool' && m.content.includes(`pinned (1 of`))).toBe(false);
    // Once condensing started, each request was smaller than the same turn's request without it.
    const firstCondensed = model.requests.findIndex((r) => r.messages.some((m) => m.content.startsWith('[context condensed')));
    expect(firstCondensed).toBeGreaterThan(0);
    const size = (r: ChatModelRequest | undefined) => o200kCounter.countMessageTokens(r?.messages ?? []);
    for (let i = firstCondensed; i < uncondensed.requests.length; i++) expect(size(model.requests[i])).toBeLessThan(size(uncondensed.requests[i]));
  });
  it("adopts the answering model's window and tokenizer when the caller named no model (counted exactly for an OpenAI model)", async () => {
    git(repo, 'checkout', '-q', '--', '.');
    const replayed = turnModel(script());
    // A test double standing in for the router's reply from an OpenAI model (the loop reads only its provider and model).
    const asOpenAi: ChatModel = { complete: async (request) => ({ ...(await replayed.complete(request)), scripted: false, provider: 'openai', model: 'gpt-4o' }) };
    const steps: AgentStep[] = [];
    await runAgentLoop(options(asOpenAi, steps, { policy: { triggerTokens: 12_000, targetTokens: 4_000, keepRecentObservations: 1 } }));
    const counted = steps.flatMap((s) => (s.condensation !== undefined ? [s.condensation.counted] : []));
    expect(counted.length).toBeGreaterThan(0);
    expect(new Set(counted)).toEqual(new Set(['exact']));

    git(repo, 'checkout', '-q', '--', '.');
    const scriptedSteps: AgentStep[] = [];
    await runAgentLoop(options(turnModel(script()), scriptedSteps, { policy: { triggerTokens: 12_000, targetTokens: 4_000, keepRecentObservations: 1 } }));
    expect(new Set(scriptedSteps.flatMap((s) => (s.condensation !== undefined ? [s.condensation.counted] : [])))).toEqual(new Set(['estimate']));
  });

  it('lets the stateless ScriptedProvider replay the right turn after each condensation (the summary says how many turns it folded)', async () => {
    git(repo, 'checkout', '-q', '--', '.');
    const provider = new ScriptedProvider(parseScript({ rules: [{ name: 'long', when: {}, turns: script() }] }), 'in-test script');
    const requests: ChatMessage[][] = [];
    const model: ChatModel = {
      async complete({ messages, tools }) {
        requests.push(messages);
        const result = await provider.complete({ model: 'scripted', intent: 'code', messages, tools });
        return { message: result.message, usage: result.usage, scripted: true, provider: provider.name, model: 'scripted' };
      },
    };
    const steps: AgentStep[] = [];
    const verdict = await runAgentLoop(options(model, steps, { policy: { triggerTokens: 12_000, targetTokens: 4_000, keepRecentObservations: 1 } }));
    expect(verdict).toMatchObject({ status: 'succeeded', summary: 'add() now adds.', steps: 18, tests: { passed: true } });
    expect(steps.filter((s) => s.kind === 'condensation').length).toBeGreaterThan(0);
    // Condensed requests hold fewer assistant messages than turns taken, yet each got its own turn.
    expect(requests.some((messages, turn) => messages.filter((m) => m.role === 'assistant').length < turn)).toBe(true);
    requests.forEach((messages, turn) => expect(assistantTurns(messages)).toBe(turn));
  });
});

describe('runAgentLoop and the provider saying the context is too long', () => {
  let repo: string;
  beforeEach(() => {
    repo = initRepo('maestro-too-long-');
    for (let i = 0; i < 3; i++) writeFileSync(join(repo, `big-${i}.txt`), bigText(i, 3_000));
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'start');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const tooLong = () =>
    providerError(ProviderErrorCodes.contextTooLong, "the deepseek provider rejected the prompt as too long for deepseek-chat: This model's maximum context length is 65536 tokens.", {
      provider: 'deepseek',
      status: 400,
      providerCode: 'context_length_exceeded',
    });

  const reads = [0, 1, 2].map((i) => ({ toolCalls: [read(`big-${i}.txt`)] }));
  // Three reads stay below this trigger, so only the provider's refusal condenses.
  const context = { policy: { triggerTokens: 20_000, keepRecentObservations: 1 } };

  it('condenses once (trigger context_too_long) and retries the turn', async () => {
    const model = turnModel([...reads, { fail: tooLong }, { content: 'Read them; nothing to change.' }]);
    const steps: AgentStep[] = [];
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'Look at the files.', testCommand: [], context, onStep: (s) => void steps.push(s) });
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 4, summary: 'Read them; nothing to change.' });
    expect(model.requests).toHaveLength(5);
    expect(stepKinds(steps)).toEqual(['model', 'tool:fs.read', 'model', 'tool:fs.read', 'model', 'tool:fs.read', 'condensation', 'model', 'verdict']);
    const condensation = steps.find((s) => s.kind === 'condensation')?.condensation;
    expect(condensation).toMatchObject({ trigger: 'context_too_long' });
    // The retry sent less than the refused request.
    const tokens = (r: ChatModelRequest | undefined) => o200kCounter.countMessageTokens(r?.messages ?? []);
    expect(tokens(model.requests[4])).toBeLessThan(tokens(model.requests[3]));
    expect(condensation?.tokensAfter).toBeLessThan(condensation?.tokensBefore ?? 0);
  });

  it('fails the run with a clear reason when the retried request is still too long', async () => {
    const model = turnModel([...reads, { fail: tooLong }, { fail: tooLong }, { content: 'never asked' }]);
    const steps: AgentStep[] = [];
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'Look at the files.', testCommand: [], context, onStep: (s) => void steps.push(s) });
    expect(verdict.status).toBe('failed');
    expect(verdict.steps).toBe(3);
    expect(verdict.reason).toMatch(/^the request was still too long for the model after condensing it \(CONTEXT_TOO_LONG twice in one turn\): the deepseek provider rejected/);
    expect(model.requests).toHaveLength(5);
    expect(steps.filter((s) => s.kind === 'condensation')).toHaveLength(1);
  });

  it('does not retry other model failures', async () => {
    const model = turnModel([{ fail: () => providerError(ProviderErrorCodes.badRequest, 'bad request', { provider: 'deepseek', status: 400 }) }, { content: 'never asked' }]);
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'Look.', testCommand: [] });
    expect(verdict).toMatchObject({ status: 'failed', reason: 'model call failed: bad request' });
    expect(model.requests).toHaveLength(1);
  });
});

describe('runAgentLoop with a model summariser', () => {
  it('counts the summariser\'s tokens in the run\'s usage', async () => {
    const repo = initRepo('maestro-summariser-');
    try {
      for (let i = 0; i < 3; i++) writeFileSync(join(repo, `big-${i}.txt`), bigText(i, 2_000));
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'start');
      const summaries: ChatModelRequest[] = [];
      const summariserModel: ChatModel = {
        async complete(request) {
          summaries.push(request);
          return { message: { role: 'assistant', content: 'Read big-0 and big-1: nothing relevant.' }, usage: { inputTokens: 1_234, outputTokens: 56 }, scripted: true, provider: 'scripted', model: 'scripted' };
        },
      };
      const model = turnModel([{ toolCalls: [read('big-0.txt')] }, { toolCalls: [read('big-1.txt')] }, { toolCalls: [read('big-2.txt')] }, { content: 'Done reading.' }]);
      const steps: AgentStep[] = [];
      const verdict = await runAgentLoop({
        model,
        tools: createDefaultToolRegistry(),
        workspace: repo,
        task: 'Read the three files.',
        testCommand: [],
        context: { policy: { triggerTokens: 6_000, targetTokens: 2_000, keepRecentObservations: 1 }, summariser: new ModelSummariser(summariserModel) },
        onStep: (s) => void steps.push(s),
      });
      expect(verdict.status).toBe('succeeded');
      expect(summaries.length).toBeGreaterThan(0);
      const condensations = steps.filter((s) => s.kind === 'condensation');
      expect(condensations.map((s) => s.condensation?.summarisedBy)).toContain('model');
      const turns = model.requests.reduce((sum, r) => sum + o200kCounter.countMessageTokens(r.messages) + o200kCounter.countToolTokens(r.tools), 0);
      expect(verdict.usage.inputTokens).toBe(turns + 1_234 * summaries.length);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('runAgentLoop with recalled memories', () => {
  let repo: string;
  beforeEach(() => {
    repo = initRepo('maestro-recall-');
    writeFileSync(join(repo, 'README.md'), '# demo\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'start');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  // In memory's order: best first.
  const memories = [
    { id: 'm-reflex', kind: 'reflex', score: 0.9, why: 'keyword rank 1; vector rank 1', content: 'In this repo, tests need TZ=UTC.' },
    { id: 'm-pref', kind: 'preference', score: 0.7, content: 'Never touch generated code.' },
    { id: 'm-project', kind: 'project', score: 0.4, why: 'keyword rank 2', content: 'The build is `make build`; generated code lives in gen/.' },
    { id: 'm-big', kind: 'project', score: 0.1, content: Array.from({ length: 3_000 }, (_, i) => `note${i}`).join(' ') },
  ];

  it("puts the memories in the system prompt in memory's order within the budget, and reports exactly those in a recall step first", async () => {
    const model = turnModel([{ content: 'Nothing to do.' }]);
    const steps: AgentStep[] = [];
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'Look around.', testCommand: [], memories, memoryTokenBudget: 200, onStep: (s) => void steps.push(s) });
    expect(verdict.status).toBe('succeeded');
    expect(stepKinds(steps)).toEqual(['recall', 'model', 'verdict']);
    const recall = steps[0] as AgentStep;
    expect(recall.index).toBe(0);
    expect(recall.recalled?.map((m) => m.id)).toEqual(['m-reflex', 'm-pref', 'm-project', 'm-big']);
    expect(recall.recalled?.slice(0, 3)).toEqual(memories.slice(0, 3));
    // The big one was cut to the room left; the step says what went in, as it went in.
    expect(recall.recalled?.[3]?.content).toMatch(/^note0 note1 .* …$/);
    expect(recall.summary).toBe('4 memories in the prompt (1 reflex, 1 preference, 2 project)');

    const system = model.requests[0]?.messages[0]?.content ?? '';
    expect(system).toContain(MEMORY_SECTION_TITLE);
    const section = system.slice(system.indexOf(MEMORY_SECTION_TITLE)).split('\n').slice(1);
    expect(section).toEqual((recall.recalled ?? []).map((m) => `- [${m.kind}] ${m.content}`));
  });

  it('leaves out what does not fit, says so, and keeps a recalled preference in every request', async () => {
    const model = turnModel([
      ...Array.from({ length: 4 }, (_, i) => ({ toolCalls: [{ name: 'exec', arguments: { argv: ['node', '-e', `console.log('${i} '.repeat(4000))`] } }] })),
      { content: 'Done.' },
    ]);
    const steps: AgentStep[] = [];
    await runAgentLoop({
      model,
      tools: createDefaultToolRegistry(),
      workspace: repo,
      task: 'Look around.',
      testCommand: [],
      memories: memories.slice(0, 3),
      memoryTokenBudget: 30,
      context: { policy: { triggerTokens: 6_000, targetTokens: 2_000, keepRecentObservations: 1 } },
      onStep: (s) => void steps.push(s),
    });
    const recall = steps[0] as AgentStep;
    expect(recall.recalled?.map((m) => m.id)).toEqual(['m-reflex', 'm-pref']);
    expect(recall.summary).toBe('2 memories in the prompt (1 reflex, 1 preference); 1 left out by the budget of 30 tokens');
    expect(model.requests[0]?.messages[0]?.content).not.toContain('make build');
    expect(steps.some((s) => s.kind === 'condensation')).toBe(true);
    for (const request of model.requests) expect(requestText(request)).toContain('Never touch generated code.');
  });

  it('reports no recall step when nothing was recalled, and refuses a negative budget naming it', async () => {
    const steps: AgentStep[] = [];
    await runAgentLoop({ model: turnModel([{ content: 'ok' }]), tools: createDefaultToolRegistry(), workspace: repo, task: 'Look.', testCommand: [], onStep: (s) => void steps.push(s) });
    expect(stepKinds(steps)).toEqual(['model', 'verdict']);
    await expect(runAgentLoop({ model: turnModel([]), tools: createDefaultToolRegistry(), workspace: repo, task: 'Look.', testCommand: [], memoryTokenBudget: -1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'memoryTokenBudget',
    });
    await expect(
      runAgentLoop({ model: turnModel([]), tools: createDefaultToolRegistry(), workspace: repo, task: 'Look.', testCommand: [], context: { policy: { triggerTokens: 100, targetTokens: 200 } } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'context.policy.targetTokens' });
  });
});

describe('runAgentLoop and context.pin', () => {
  let repo: string;
  beforeEach(() => {
    repo = initRepo('maestro-pin-');
    for (let i = 0; i < 3; i++) writeFileSync(join(repo, `big-${i}.txt`), bigText(i, 2_500));
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'start');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('offers the tool, says so in the prompt, answers it like any tool, and keeps the pin in every later request', async () => {
    const fact = 'big-1.txt is the one the user cares about.';
    const model = turnModel([
      { toolCalls: [{ name: 'context_pin', arguments: { fact } }] },
      ...[0, 1, 2, 0].map((i) => ({ toolCalls: [read(`big-${i}.txt`)] })),
      { content: 'Done.' },
    ]);
    const steps: AgentStep[] = [];
    const verdict = await runAgentLoop({
      model,
      tools: createDefaultToolRegistry(),
      workspace: repo,
      task: 'Read the files.',
      testCommand: [],
      context: { policy: { triggerTokens: 6_000, targetTokens: 2_000, keepRecentObservations: 1 } },
      onStep: (s) => void steps.push(s),
    });
    expect(verdict.status).toBe('succeeded');
    expect(model.requests[0]?.tools.map((t) => t.name)).toContain(PIN_TOOL_NAME);
    expect(model.requests[0]?.messages[0]?.content).toMatch(/Pin anything you must not lose .* with context\.pin/);
    expect(model.requests[0]?.messages[0]?.content).toContain('context.pin(fact)');
    expect(steps[1]).toMatchObject({ kind: 'tool', tool: 'context_pin', ok: true });
    expect(model.requests[1]?.messages.at(-1)).toMatchObject({ role: 'tool', content: `pinned (1 of 16): ${fact}` });
    expect(steps.some((s) => s.kind === 'condensation')).toBe(true);
    for (const request of model.requests.slice(1)) expect(requestText(request)).toContain(fact);
    // By the end the pin's own turn was folded away: the pinned block carries it.
    const last = model.requests.at(-1) as ChatModelRequest;
    expect(last.messages.some((m) => m.role === 'tool' && m.content.startsWith('pinned ('))).toBe(false);
    expect(last.messages.find((m) => m.content.startsWith(PINNED_FACTS_HEADER))?.content).toContain(fact);
  });
});

describe('runAgentLoop usage', () => {
  it('sums the cached input tokens the model reports, so prefix-cache hits can be counted', async () => {
    const repo = initRepo('maestro-usage-');
    try {
      let call = 0;
      const model: ChatModel = {
        async complete() {
          call += 1;
          const message: ChatMessage =
            call === 1 ? { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'fs.list', argumentsJson: '{}' }] } : { role: 'assistant', content: 'Done.' };
          return { message, usage: { inputTokens: 1_000, outputTokens: 10, cachedInputTokens: call === 1 ? 0 : 900 }, scripted: true, provider: 'scripted', model: 'scripted' };
        },
      };
      const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'List the files.', testCommand: [] });
      expect(verdict.usage).toEqual({ inputTokens: 2_000, outputTokens: 20, cachedInputTokens: 900 });
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
