import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@maestro/runtime';
import { ScriptedProvider, parseScript } from './scripted-provider.js';
import { countMessageTokens, countTokens } from './token-counter.js';
import type { ChatMessage } from './messages.js';
import type { CompletionStreamEvent } from './chat-provider.js';

const script = {
  description: 'plan, then code with a fix when tests fail',
  rules: [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: 'Step 1: write sum.js' }] },
    {
      name: 'fix',
      when: { intent: 'code', contains: 'tests failed' },
      turns: [
        { content: 'unused' },
        { content: 'unused' },
        { toolCalls: [{ name: 'fs.write', arguments: { path: 'sum.js', content: 'fixed' } }] },
      ],
    },
    {
      name: 'code',
      when: { intent: 'code' },
      turns: [
        {
          content: 'Writing the file.',
          toolCalls: [
            { name: 'fs.write', arguments: { path: 'sum.js', content: 'buggy' } },
            { name: 'fs.read', arguments: { path: 'sum.js' } },
          ],
        },
        { content: 'Done.' },
      ],
    },
  ],
};

const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('ScriptedProvider', () => {
  const provider = new ScriptedProvider(parseScript(script), 'test-script.json');

  it('answers with turn n of the first matching rule, n = assistant messages so far', async () => {
    const first = await provider.complete({ model: 'scripted', intent: 'code', tools: [], messages: [user('add sum')] });
    expect(first.scripted).toBe(true);
    expect(first.finishReason).toBe('tool_calls');
    expect(first.message).toEqual({
      role: 'assistant',
      content: 'Writing the file.',
      toolCalls: [
        { id: 'call_code_0_0', name: 'fs.write', argumentsJson: '{"path":"sum.js","content":"buggy"}' },
        { id: 'call_code_0_1', name: 'fs.read', argumentsJson: '{"path":"sum.js"}' },
      ],
    });

    const second = await provider.complete({
      model: 'scripted',
      intent: 'code',
      tools: [],
      messages: [user('add sum'), assistant('Writing the file.'), { role: 'tool', content: 'ok', toolCallId: 'call_code_0_0' }],
    });
    expect(second.message).toEqual({ role: 'assistant', content: 'Done.' });
    expect(second.finishReason).toBe('stop');
  });

  it('replays a finish reason a turn names (a provider\'s malformed tool call), and refuses an unknown one', async () => {
    const malformed = new ScriptedProvider(
      parseScript({ rules: [{ name: 'gemini', when: { intent: 'code' }, turns: [{ content: 'Malformed function call: print(fs_write(', finishReason: 'malformed_tool_call' }] }] }),
      'malformed.json',
    );
    const reply = await malformed.complete({ model: 'scripted', intent: 'code', tools: [], messages: [user('add sum')] });
    expect(reply).toMatchObject({ scripted: true, finishReason: 'malformed_tool_call', message: { content: 'Malformed function call: print(fs_write(' } });
    expect(() => parseScript({ rules: [{ name: 'x', when: {}, turns: [{ content: 'a', finishReason: 'exploded' }] }] })).toThrow(/finishReason/);
  });

  it('is stateless: the same conversation always gets the same reply', async () => {
    const request = { model: 'scripted', intent: 'plan', tools: [], messages: [user('plan it')] };
    const replies = await Promise.all([provider.complete(request), provider.complete(request)]);
    expect(replies[0]).toEqual(replies[1]);
    expect(replies[0]?.message.content).toBe('Step 1: write sum.js');
  });

  it('matches `contains` against any message of the conversation', async () => {
    const reply = await provider.complete({
      model: 'scripted',
      intent: 'code',
      tools: [],
      messages: [user('add sum'), assistant('a'), user('the tests failed: expected 3'), assistant('b')],
    });
    expect(reply.message.toolCalls?.[0]?.id).toBe('call_fix_2_0');
  });

  it('reports usage counted with o200k_base', async () => {
    const messages = [user('plan it')];
    const reply = await provider.complete({ model: 'scripted', intent: 'plan', tools: [], messages });
    expect(reply.usage).toEqual({ inputTokens: countMessageTokens(messages), outputTokens: countTokens('Step 1: write sum.js') });
  });

  it('fails clearly when the rule has no turn left', async () => {
    const call = provider.complete({ model: 'scripted', intent: 'plan', tools: [], messages: [user('x'), assistant('y')] });
    await expect(call).rejects.toThrow(UserError);
    await expect(call).rejects.toThrow('script exhausted for rule plan at turn 1');
  });

  it('fails clearly when no rule matches, listing the intent and the rules', async () => {
    const call = provider.complete({ model: 'scripted', intent: 'review', tools: [], messages: [user('x')] });
    await expect(call).rejects.toMatchObject({ code: 'SCRIPT_NO_MATCH' });
    await expect(call).rejects.toThrow(/intent "review".*plan \(intent plan\).*fix \(intent code, contains "tests failed"\).*code \(intent code\)/);
  });

  it('streams the content in a few chunks, then the final result', async () => {
    const events = await collect<CompletionStreamEvent>(
      provider.stream({ model: 'scripted', intent: 'plan', tools: [], messages: [user('plan it')] }),
    );
    const deltas = events.filter((e) => e.type === 'delta').map((e) => (e.type === 'delta' ? e.content : ''));
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Step 1: write sum.js');
    const last = events[events.length - 1];
    expect(last?.type).toBe('final');
    expect(last?.type === 'final' && last.result.message.content).toBe('Step 1: write sum.js');
  });
});

describe('script validation', () => {
  it('names the rule and turn at fault', () => {
    const bad = {
      rules: [
        { name: 'plan', when: { intent: 'plan' }, turns: [{ content: 'ok' }] },
        { name: 'code', when: { intent: 'code' }, turns: [{ content: 'ok' }, {}, { toolCalls: [{ arguments: {} }] }] },
      ],
    };
    expect(() => parseScript(bad, 'bad.json')).toThrow(UserError);
    let message = '';
    try {
      parseScript(bad, 'bad.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('script bad.json is invalid');
    expect(message).toContain('rule "code" (rules[1]), turn 1: a turn needs non-empty content or at least one tool call');
    expect(message).toContain('rule "code" (rules[1]), turn 2, toolCalls[0].name');
  });

  it('rejects unknown keys, duplicate names and empty scripts', () => {
    expect(() => parseScript({ rules: [{ name: 'a', turns: [{ content: 'x', tool_calls: [] }] }] })).toThrow(
      /rule "a" \(rules\[0\]\), turn 0: .*tool_calls/,
    );
    expect(() =>
      parseScript({ rules: [{ name: 'a', turns: [{ content: 'x' }] }, { name: 'a', turns: [{ content: 'y' }] }] }),
    ).toThrow('duplicate rule name "a"');
    expect(() => parseScript({ rules: [] })).toThrow('a script needs at least one rule');
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'maestro-llm-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('loads a valid file', async () => {
      const path = join(dir, 'script.json');
      writeFileSync(path, JSON.stringify(script));
      const provider = ScriptedProvider.fromFile(path);
      expect(provider.name).toBe('scripted');
      const reply = await provider.complete({ model: 'scripted', intent: 'plan', tools: [], messages: [user('x')] });
      expect(reply.message.content).toBe('Step 1: write sum.js');
    });

    it('names the file when it is missing or not JSON', () => {
      const missing = join(dir, 'missing.json');
      expect(() => ScriptedProvider.fromFile(missing)).toThrow(`script ${missing} cannot be read`);
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{ "rules": [');
      expect(() => ScriptedProvider.fromFile(broken)).toThrow(`script ${broken} is not valid JSON`);
    });
  });
});
