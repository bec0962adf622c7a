import type { ChatMessage } from '@maestro/llm';
import { scriptedChatModel, type ScriptedChatModel } from '../scripted-chat-model.js';
import { ModelSummariser, SUMMARY_INSTRUCTIONS } from './model-summariser.js';

/** A scripted model whose one reply is `reply`. */
const scriptedModel = (reply: string): ScriptedChatModel => scriptedChatModel({ rules: [{ name: 'summary', turns: [{ content: reply }] }] }, 'summarise');

const MESSAGES: ChatMessage[] = [
  { role: 'assistant', content: 'Reading.', toolCalls: [{ id: 'c1', name: 'bash', argumentsJson: '{"command":"cat old.py"}' }] },
  { role: 'tool', toolCallId: 'c1', content: 'old content' },
  { role: 'assistant', content: 'Testing.', reasoning: 'private thoughts', toolCalls: [{ id: 'c2', name: 'bash', argumentsJson: '{"command":"pytest"}' }] },
  { role: 'tool', toolCallId: 'c2', content: `FAILED test_a.py::test_b\n${'noise line\n'.repeat(2000)}1 failed` },
];

describe('ModelSummariser', () => {
  it('asks the model with the pinned facts and the turns, outputs cut, reasoning left out; returns its text and usage', async () => {
    const model = scriptedModel('Tried pytest: test_b fails.');
    const summariser = new ModelSummariser(model, { maxMessageTokens: 200 });
    const result = await summariser.summarise(MESSAGES, { pinned: [{ kind: 'constraint', text: 'DO NOT MODIFY: Tests', seenAt: 1 }], maxTokens: 500 });
    expect(summariser.by).toBe('model');
    expect(result.text).toBe('Tried pytest: test_b fails.');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    const [request] = model.requests;
    expect(request?.tools).toEqual([]);
    expect(request?.messages[0]).toEqual({ role: 'system', content: SUMMARY_INSTRUCTIONS });
    const prompt = request?.messages[1]?.content ?? '';
    expect(prompt).toContain('- [constraint] DO NOT MODIFY: Tests');
    expect(prompt).toContain('cat old.py');
    expect(prompt).toContain('FAILED test_a.py::test_b');
    expect(prompt).toMatch(/\[… \d+ lines cut …\]/);
    expect(prompt).toContain('at most 500 tokens');
    expect(prompt).not.toContain('private thoughts');
  });

  it('does not read again what the previous summary covered', async () => {
    const model = scriptedModel('Updated summary.');
    await new ModelSummariser(model).summarise(MESSAGES, { pinned: [], previous: { text: 'Read old.py.', messages: 2 } });
    const prompt = model.requests[0]?.messages[1]?.content ?? '';
    expect(prompt).toContain('Summary of the turns before these:\nRead old.py.');
    expect(prompt).not.toContain('cat old.py');
    expect(prompt).toContain('pytest');
  });
});
