import { countMessageTokens, type ChatMessage, type ToolSpec } from '@maestro/llm';
import { scriptedChatModel, type ScriptedChatModel } from '../scripted-chat-model.js';
import { contextPolicyFor } from './context-policy.js';
import type { ContextPolicy, ContextView, PinnedFact, Summariser } from './context-types.js';
import { Condenser } from './condenser.js';
import { ModelSummariser } from './model-summariser.js';
import { PinnedFacts } from './pinned-facts.js';
import { PINNED_FACTS_HEADER } from './pinned-facts-message.js';
import { missingFacts } from './request-text.js';

const SYSTEM: ChatMessage = { role: 'system', content: 'You are a careful engineer working in a git repository.' };
const TASK: ChatMessage = {
  role: 'user',
  content: 'Fix the parser so empty input returns an empty list\n\nDO NOT MODIFY: Tests, configuration files (pyproject.toml, setup.cfg, etc.)\nThe fix must keep the public API.',
};

const call = (id: string, command: string, prose = 'Let me do the next step.'): ChatMessage => ({
  role: 'assistant',
  content: prose,
  toolCalls: [{ id, name: 'bash', argumentsJson: JSON.stringify({ command }) }],
});
const result = (id: string, content: string): ChatMessage => ({ role: 'tool', toolCallId: id, name: 'bash', content });
const fileLines = (name: string, n: number): string => Array.from({ length: n }, (_, k) => `    line ${k} of ${name}: some code here`).join('\n');

/** A long agent run: reading, editing, running scripts and tests in turn, with errors along the way. */
function longRun(turns: number): ChatMessage[] {
  const history: ChatMessage[] = [SYSTEM, TASK];
  for (let i = 0; i < turns; i++) {
    const id = `call_${i}`;
    switch (i % 4) {
      case 0:
        history.push(call(id, `cat src/parser${i % 3}.py`), result(id, fileLines(`parser${i % 3}.py`, 40)));
        break;
      case 1:
        history.push(call(id, `sed -i 's/return None/return []/' src/parser${i % 3}.py`), result(id, ''));
        break;
      case 2:
        history.push(call(id, 'python reproduce.py'), result(id, `Traceback (most recent call last):\n  File "reproduce.py", line 3\nValueError: empty input number ${i}\nexit status 1`));
        break;
      default:
        history.push(
          call(id, 'python -m pytest tests/test_parser.py'),
          result(id, `E       assert None == []\n=========================== short test summary info ============================\nFAILED tests/test_parser.py::test_empty_${i} - assert None == []\n========================= 1 failed, 3 passed in 0.2s =========================`),
        );
    }
  }
  return history;
}

/** The loop's way of asking: a view before each assistant turn. */
async function replay(condenser: Condenser, facts: PinnedFacts, history: readonly ChatMessage[], tools?: ToolSpec[]): Promise<Array<{ at: number; view: ContextView; pinned: PinnedFact[] }>> {
  const views: Array<{ at: number; view: ContextView; pinned: PinnedFact[] }> = [];
  for (let at = 2; at <= history.length; at++) {
    if (at < history.length && history[at]?.role !== 'assistant') continue;
    const view = await condenser.view(history.slice(0, at), facts, tools ? { tools } : {});
    views.push({ at, view, pinned: facts.list() });
  }
  return views;
}

const TEST_POLICY: Partial<ContextPolicy> = { windowTokens: 40_000, triggerTokens: 2_500, targetTokens: 1_200, summaryTokens: 500, keepRecentObservations: 2, maxObservationTokens: 150 };

describe('Condenser', () => {
  const { policy } = contextPolicyFor('test-model', TEST_POLICY);

  it('sends the history as it is while it is under the trigger', async () => {
    const condenser = new Condenser({ policy });
    const history = longRun(3);
    const view = await condenser.view(history, new PinnedFacts());
    expect(view.messages).toEqual(history);
    expect(view.tokens).toBe(countMessageTokens(history));
    expect(view.condensation).toBeUndefined();
  });

  it('over a long run: keeps the head verbatim, every pinned fact, calls paired with results, and the prefix stable between condensations', async () => {
    const condenser = new Condenser({ policy, counting: 'estimate' });
    const facts = new PinnedFacts();
    const history = longRun(60);
    const views = await replay(condenser, facts, history);
    const condensations = views.filter(({ view }) => view.condensation !== undefined);
    expect(condensations.length).toBeGreaterThanOrEqual(3);
    let previous: ChatMessage[] | undefined;
    for (const { at, view, pinned } of views) {
      const request = view.messages;
      expect(request[0]).toBe(SYSTEM);
      expect(request[1]).toBe(TASK);
      expect(missingFacts(request, pinned)).toEqual([]);
      expect(view.tokens).toBe(countMessageTokens(request));
      expect(view.tokens).toBeLessThanOrEqual(policy.windowTokens - policy.reserveOutputTokens);
      // Every tool result answers a call made before it, and every call made has its result.
      const calls = new Set<string>();
      for (const message of request) {
        message.toolCalls?.forEach((c) => calls.add(c.id));
        if (message.role === 'tool') expect(calls.has(message.toolCallId ?? '')).toBe(true);
      }
      const answered = new Set(request.filter((m) => m.role === 'tool').map((m) => m.toolCallId));
      expect([...calls].filter((id) => !answered.has(id))).toEqual([]);
      // Roles alternate as in the history: never two user or two assistant messages in a row.
      expect(request.slice(1).filter((m, i) => m.role !== 'tool' && m.role === request[i]?.role)).toEqual([]);
      // Between condensations the last request is a prefix of this one, message for message.
      if (previous !== undefined && view.condensation === undefined) expect(request.slice(0, previous.length)).toEqual(previous);
      previous = request;
      if (view.condensation !== undefined) {
        const c = view.condensation;
        expect(c).toMatchObject({ trigger: 'budget', counted: 'estimate', summarisedBy: 'rule', pinnedFacts: pinned.length });
        expect(c.rejected).toBeUndefined();
        expect(c.tokensBefore).toBeGreaterThan(policy.triggerTokens);
        expect(c.tokensAfter).toBeLessThan(c.tokensBefore);
        expect(c.summarisedMessages).toBeGreaterThan(0);
        expect(request[2]).toMatchObject({ role: 'assistant', content: expect.stringContaining(`: ${c.summarisedMessages} earlier messages are summarised here`) });
        expect(request[3]).toMatchObject({ role: 'user', content: expect.stringMatching(new RegExp(`^${PINNED_FACTS_HEADER.replace(/[[\]().]/g, '\\$&')}`)) });
        // The latest results are there whole.
        expect(request[request.length - 1]).toBe(history[at - 1]);
      }
    }
    // Far fewer tokens than sending the whole history every turn.
    const sent = views.reduce((sum, { view }) => sum + view.tokens, 0);
    const without = views.reduce((sum, { at }) => sum + countMessageTokens(history.slice(0, at)), 0);
    expect(sent).toBeLessThan(without / 2);
  });

  it('pins the errors and failing tests it folds away, and lists what is already in the task only once', async () => {
    const condenser = new Condenser({ policy });
    const facts = new PinnedFacts();
    const views = await replay(condenser, facts, longRun(30));
    const last = views.filter(({ view }) => view.condensation !== undefined).pop()?.view;
    const pinned = last?.messages[3]?.content ?? '';
    expect(pinned).toContain('ValueError: empty input number 2');
    expect(pinned).toContain('tests/test_parser.py::test_empty_3');
    expect(pinned).toContain('src/parser1.py');
    expect(pinned).not.toContain('DO NOT MODIFY');
  });

  it('rejects a condensation that cut a pinned fact out of a kept result, and keeps the fact in the pinned block', async () => {
    const condenser = new Condenser({ policy: contextPolicyFor('test-model', { windowTokens: 40_000, triggerTokens: 1_500, targetTokens: 1_400, summaryTokens: 100, keepRecentObservations: 1, maxObservationTokens: 60 }).policy });
    const facts = new PinnedFacts();
    const step = (k: number): string => `progress of the long job: step ${k} of 200 done, nothing to report yet`;
    const noisy = [...Array.from({ length: 100 }, (_, k) => step(k)), 'ValueError: the one that matters', ...Array.from({ length: 100 }, (_, k) => step(k + 100))].join('\n');
    const history = [SYSTEM, TASK, call('a', 'python long_job.py'), result('a', noisy), call('b', 'python quick.py'), result('b', 'ok')];
    const view = await condenser.view(history, facts);
    expect(view.condensation?.rejected).toMatch(/lost 1 pinned fact \(error: "ValueError: the one that matters"\)/);
    expect(view.condensation?.dropped).toEqual([expect.stringMatching(/^bash: python long_job.py: output cut to head and tail \(\d+ lines cut\)$/)]);
    expect(view.messages[3]?.content).toContain('ValueError: the one that matters');
    expect(view.messages.find((m) => m.toolCallId === 'a')?.content).toMatch(/\[… \d+ lines cut …\]/);
    expect(missingFacts(view.messages, facts.list())).toEqual([]);
  });

  it('replaces a kept read that a later write made stale with a one-line note', async () => {
    const condenser = new Condenser({ policy: contextPolicyFor('test-model', { windowTokens: 40_000, triggerTokens: 1_000, targetTokens: 900, summaryTokens: 100, keepRecentObservations: 1 }).policy });
    const history = [SYSTEM, TASK, call('r', 'cat src/parser.py'), result('r', fileLines('parser.py', 120)), call('w', "sed -i 's/None/[]/' src/parser.py"), result('w', ''), call('t', 'python -m pytest'), result('t', '4 passed')];
    const view = await condenser.view(history, new PinnedFacts());
    expect(view.messages.find((m) => m.toolCallId === 'r')?.content).toBe('[output dropped: this read of src/parser.py was superseded by a later write of src/parser.py]');
    expect(view.condensation?.dropped).toEqual(['bash: cat src/parser.py (superseded by a later read or write of the same file)']);
  });

  it('condenses harder, at once, when the provider said the context was too long', async () => {
    const condenser = new Condenser({ policy });
    const history = longRun(8);
    const normal = await new Condenser({ policy: contextPolicyFor('test-model', { ...TEST_POLICY, triggerTokens: 1_300 }).policy }).view(history, new PinnedFacts());
    const forced = await condenser.view(history, new PinnedFacts(), { force: 'context_too_long' });
    expect(countMessageTokens(history)).toBeLessThan(policy.triggerTokens);
    expect(forced.condensation).toMatchObject({ trigger: 'context_too_long' });
    expect(forced.tokens).toBeLessThan(normal.tokens);
  });

  it('puts a fact given from outside in every request, even before any condensation, without moving the prefix', async () => {
    const condenser = new Condenser({ policy });
    const facts = new PinnedFacts();
    facts.pin('preference', 'use pnpm, never npm');
    const history = longRun(2);
    const first = await condenser.view(history.slice(0, 4), facts);
    const second = await condenser.view(history, facts);
    expect(first.messages.slice(0, 2)).toEqual([SYSTEM, TASK]);
    expect(first.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'tool']);
    expect(first.messages[3]?.content).toContain('- use pnpm, never npm');
    expect(second.messages.slice(0, first.messages.length)).toEqual(first.messages);
    expect(second.condensation).toBeUndefined();
  });

  it('counts the tools offered against the budget', async () => {
    const tools: ToolSpec[] = [{ name: 'bash', description: 'Run a command. '.repeat(400), parameters: { type: 'object', properties: { command: { type: 'string' } } } }];
    const history = longRun(12);
    const without = await new Condenser({ policy }).view(history, new PinnedFacts());
    const withTools = await new Condenser({ policy }).view(history, new PinnedFacts(), { tools });
    expect(without.condensation).toBeUndefined();
    expect(withTools.condensation).toBeDefined();
  });

  it('sends each reply without the command its text repeats, from the first request on, so the request still grows as a prefix', async () => {
    const echoing = (id: string, command: string): ChatMessage => call(id, command, `I run the reproduction.\n\n\`\`\`bash\n${command}\n\`\`\``);
    const history = [SYSTEM, TASK, echoing('a', 'python reproduce.py'), result('a', 'ValueError: empty input'), echoing('b', 'python -m pytest'), result('b', '1 failed')];
    const condenser = new Condenser({ policy });
    const facts = new PinnedFacts();
    const first = await condenser.view(history.slice(0, 4), facts);
    const second = await condenser.view(history, facts);
    expect(first.messages[2]).toEqual({ ...history[2], content: 'I run the reproduction.' });
    expect(second.messages.slice(0, first.messages.length)).toEqual(first.messages);
    expect(second.messages[4]?.content).toBe('I run the reproduction.');
    expect(second.messages[4]?.toolCalls).toEqual(history[4]?.toolCalls);
    expect(second.tokens).toBeLessThan(countMessageTokens(history));
  });

  it('does not condense while the recent results are most of the request (it would save little), and does once it pays', async () => {
    const big = (name: string): string => fileLines(name, 120);
    const history: ChatMessage[] = [SYSTEM, TASK];
    for (let i = 0; i < 5; i++) history.push(call(`s${i}`, `python step${i}.py`), result(`s${i}`, fileLines(`step${i}`, 8)));
    history.push(call('a', 'python dump_a.py'), result('a', big('a')), call('b', 'python dump_b.py'), result('b', big('b')));
    expect(countMessageTokens(history)).toBeGreaterThan(policy.triggerTokens);
    const condenser = new Condenser({ policy });
    const facts = new PinnedFacts();
    const early = await condenser.view(history, facts);
    expect(early.condensation).toBeUndefined();
    expect(early.messages).toEqual(history);
    const later = [...history, call('c', 'python -m pytest'), result('c', '4 passed'), call('d', 'git diff --stat'), result('d', ' src/parser.py | 2 +-')];
    const view = await condenser.view(later, facts);
    expect(view.condensation).toBeDefined();
    expect(view.tokens).toBeLessThan(countMessageTokens(later) - (policy.triggerTokens - policy.targetTokens) / 2);
  });

  it('after a condensation held up by long recent results, condenses again once the request grew by the gap from where it settles', async () => {
    const history: ChatMessage[] = [SYSTEM, TASK];
    for (let i = 0; i < 12; i++) history.push(call(`s${i}`, `python step${i}.py`), result(`s${i}`, fileLines(`step${i}`, 6)));
    history.push(call('x', 'python dump_x.py'), result('x', fileLines('x', 70)), call('y', 'python dump_y.py'), result('y', fileLines('y', 70)));
    const condenser = new Condenser({ policy });
    const facts = new PinnedFacts();
    const first = (await condenser.view(history, facts)).condensation;
    expect(first?.tokensAfter).toBeGreaterThan(policy.targetTokens + (policy.triggerTokens - policy.targetTokens) / 2);
    let second;
    for (let i = 0; i < 20 && second === undefined; i++) {
      history.push(call(`t${i}`, `python next${i}.py`), result(`t${i}`, fileLines(`next${i}`, 6)));
      second = (await condenser.view(history, facts)).condensation;
    }
    // Counted from the size right after the first, it would have waited for the whole gap again.
    expect(second?.tokensBefore).toBeLessThan((first?.tokensAfter ?? 0) + (policy.triggerTokens - policy.targetTokens));
  });

  it('starts over when the history is not the one it condensed (a new run)', async () => {
    const condenser = new Condenser({ policy });
    const facts = new PinnedFacts();
    await replay(condenser, facts, longRun(30));
    const fresh = [SYSTEM, { role: 'user' as const, content: 'Another task' }];
    const view = await condenser.view(fresh, facts);
    expect(view.messages).toEqual(fresh);
  });

  describe('with a model summariser', () => {
    const scriptedModel = (): ScriptedChatModel =>
      scriptedChatModel({ rules: [{ name: 'summary', turns: [{ content: 'Summary by the model: parser edited, tests still failing.' }] }] }, 'summarise');

    it('uses its summary and reports its usage; a later condensation gives it the previous summary', async () => {
      const model = scriptedModel();
      const condenser = new Condenser({ policy, summariser: new ModelSummariser(model) });
      const views = await replay(condenser, new PinnedFacts(), longRun(40));
      const condensed = views.filter(({ view }) => view.condensation !== undefined).map(({ view }) => view);
      expect(condensed.length).toBeGreaterThanOrEqual(2);
      expect(condensed[0]?.condensation?.summarisedBy).toBe('model');
      expect(condensed[0]?.summariserUsage?.inputTokens).toBeGreaterThan(0);
      expect(condensed[0]?.messages[2]?.content).toContain('Summary by the model: parser edited');
      expect(model.requests[1]?.messages[1]?.content).toContain('Summary of the turns before these:\nSummary by the model');
    });

    it('falls back to the rule when the summariser fails', async () => {
      const failing: Summariser = { by: 'model', summarise: () => Promise.reject(new Error('model down')) };
      const condenser = new Condenser({ policy, summariser: failing });
      const views = await replay(condenser, new PinnedFacts(), longRun(20));
      const condensation = views.find(({ view }) => view.condensation !== undefined)?.view;
      expect(condensation?.condensation?.summarisedBy).toBe('rule');
      expect(condensation?.summariserUsage).toBeUndefined();
      expect(condensation?.messages[2]?.content).toContain('- bash: python reproduce.py');
    });
  });
});
