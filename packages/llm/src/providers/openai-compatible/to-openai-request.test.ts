import { toOpenAIRequest } from './to-openai-request.js';

describe('toOpenAIRequest', () => {
  const base = {
    model: 'gpt-4o',
    tools: [],
    messages: [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Hi', name: 'alice' },
      {
        role: 'assistant' as const,
        content: '',
        reasoning: 'call it',
        thoughtSignature: 'gemini-only',
        toolCalls: [{ id: 'call_1', name: 'read', argumentsJson: '{"path": "a.txt" ,}', thoughtSignature: 'sig' }],
      },
      { role: 'tool' as const, content: 'file text', toolCallId: 'call_1', name: 'read' },
    ],
  };

  it('maps messages; tool arguments travel exactly as held, even when not JSON', () => {
    const params = toOpenAIRequest(base, { maxTokensParam: 'max_completion_tokens', sendReasoning: false });
    expect(params).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi', name: 'alice' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read', arguments: '{"path": "a.txt" ,}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'file text' },
      ],
    });
  });

  it('sends reasoning back on tool-call turns when asked (DeepSeek)', () => {
    const params = toOpenAIRequest(base, { maxTokensParam: 'max_tokens', sendReasoning: true });
    expect(params.messages[2]).toMatchObject({ reasoning_content: 'call it' });
  });

  it('adds tools and the output limit under the configured name', () => {
    const params = toOpenAIRequest(
      { ...base, maxOutputTokens: 100, tools: [{ name: 'read', description: '', parameters: { type: 'object', properties: {} } }] },
      { maxTokensParam: 'max_tokens', sendReasoning: false },
    );
    expect(params.max_tokens).toBe(100);
    expect(params.max_completion_tokens).toBeUndefined();
    expect(params.tools).toEqual([{ type: 'function', function: { name: 'read', parameters: { type: 'object', properties: {} } } }]);
  });
});
