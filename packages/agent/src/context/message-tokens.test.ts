import { countMessageTokens, o200kCounter, type ChatMessage } from '@maestro/llm';
import { countTextTokens, LONG_RUN_CHARS, MessageTokens } from './message-tokens.js';

describe('MessageTokens', () => {
  it('counts a request as countMessageTokens does, one message at a time', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are careful.' },
      { role: 'user', content: 'Add sum(a, b).' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'fs.write', argumentsJson: '{"path":"sum.js"}' }] },
      { role: 'tool', toolCallId: 'c1', name: 'fs.write', content: 'wrote sum.js' },
    ];
    const tokens = new MessageTokens(o200kCounter);
    expect(tokens.total(messages)).toBe(countMessageTokens(messages));
    expect(tokens.total([])).toBe(countMessageTokens([]));
    expect(tokens.of(messages[1] as ChatMessage)).toBe(countMessageTokens([messages[1] as ChatMessage]) - countMessageTokens([]));
  });
});

describe('countTextTokens', () => {
  it('counts ordinary text exactly', () => {
    const text = 'def f(x):\n    return x + 1\n' + 'word '.repeat(500);
    expect(countTextTokens(o200kCounter, text)).toBe(o200kCounter.countTokens(text));
  });

  it('counts a long unbroken run in pieces, quickly and close to the exact count', () => {
    const blob = 'aGVsbG8gd29ybGQ'.repeat(100); // 1 500 characters of base64
    const started = performance.now();
    const estimate = countTextTokens(o200kCounter, `data: ${blob} end`);
    expect(performance.now() - started).toBeLessThan(2_000);
    const exact = o200kCounter.countTokens(`data: ${blob} end`);
    expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(Math.ceil(blob.length / LONG_RUN_CHARS) + 1);
  });
});
