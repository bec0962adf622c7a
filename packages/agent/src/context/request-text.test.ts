import type { ChatMessage } from '@maestro/llm';
import { missingFacts, requestText } from './request-text.js';

describe('requestText and missingFacts', () => {
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Fix it. DO NOT MODIFY: Tests' },
    { role: 'assistant', content: 'Editing.', reasoning: 'secret plan', toolCalls: [{ id: 'c1', name: 'fs.edit', argumentsJson: JSON.stringify({ path: 'a.py', new_str: 'x = "quoted"\ny = 2' }) }] },
  ];

  it('holds contents and tool call arguments, raw and as the strings inside them, but not reasoning', () => {
    const text = requestText(messages);
    expect(text).toContain('DO NOT MODIFY: Tests');
    expect(text).toContain('x = "quoted"\ny = 2');
    expect(text).toContain('"path":"a.py"');
    expect(text).not.toContain('secret plan');
  });

  it('names the facts that are not there word for word', () => {
    const facts = [
      { kind: 'constraint' as const, text: 'DO NOT MODIFY: Tests', seenAt: 0 },
      { kind: 'agent' as const, text: 'x = "quoted"', seenAt: 1 },
      { kind: 'agent' as const, text: 'secret plan', seenAt: 1 },
    ];
    expect(missingFacts(messages, facts).map((fact) => fact.text)).toEqual(['secret plan']);
  });
});
