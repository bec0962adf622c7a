import type { ChatMessage } from '@maestro/llm';
import { turnsOf } from './turns.js';

describe('turnsOf', () => {
  it('keeps an assistant message with the results of its calls, and anything else alone', () => {
    const history: ChatMessage[] = [
      { role: 'system', content: 's' },
      { role: 'user', content: 'task' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'exec', argumentsJson: '{}' }, { id: 'b', name: 'exec', argumentsJson: '{}' }] },
      { role: 'tool', toolCallId: 'a', content: 'A' },
      { role: 'tool', toolCallId: 'b', content: 'B' },
      { role: 'tool', content: 'console output nobody asked for' },
      { role: 'assistant', content: 'done' },
    ];
    expect(turnsOf(history)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
      { start: 2, end: 5 },
      { start: 5, end: 6 },
      { start: 6, end: 7 },
    ]);
    expect(turnsOf(history, 2, 5)).toEqual([{ start: 2, end: 5 }]);
  });
});
