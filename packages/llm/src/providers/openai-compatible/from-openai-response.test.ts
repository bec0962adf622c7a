import { fromChatCompletion, type ReplyContext } from './from-openai-response.js';

const ctx: ReplyContext = {
  provider: 'deepseek',
  model: 'deepseek-chat',
  apiKey: 'sk-secret',
  scripted: true,
  request: { messages: [{ role: 'user', content: 'hi' }], tools: [] },
};
const body = (message: Record<string, unknown>, finish: string | null) => ({
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
});

describe('fromChatCompletion', () => {
  it('a forced tool call that finished with "stop" is tool_calls', () => {
    const result = fromChatCompletion(
      body({ content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, 'stop'),
      ctx,
    );
    expect(result).toEqual({
      message: { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'f', argumentsJson: '{"a":1}' }] },
      usage: { inputTokens: 1, outputTokens: 2 },
      finishReason: 'tool_calls',
      scripted: true,
    });
  });

  it('keeps reasoning_content out of the content', () => {
    const result = fromChatCompletion(body({ content: 'Three.', reasoning_content: 'Count: r, r, r.' }, 'stop'), ctx);
    expect(result.message).toEqual({ role: 'assistant', content: 'Three.', reasoning: 'Count: r, r, r.' });
  });

  it('reads a legacy function_call and serializes object arguments once', () => {
    const result = fromChatCompletion(body({ content: null, function_call: { name: 'g', arguments: { b: 2 } } }, 'function_call'), ctx);
    expect(result.message.toolCalls).toEqual([{ id: 'call_0', name: 'g', argumentsJson: '{"b":2}' }]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('a refusal is MODEL_REFUSED with its text', () => {
    expect(() => fromChatCompletion(body({ content: null, refusal: 'No.' }, 'stop'), ctx)).toThrow(
      expect.objectContaining({ code: 'MODEL_REFUSED', message: 'the deepseek model deepseek-chat refused: No.' }),
    );
  });

  it.each([[null], ['text'], [{}], [{ choices: [] }], [{ choices: [{ index: 0 }] }]])('%j is PROVIDER_MALFORMED_RESPONSE', (bad) => {
    expect(() => fromChatCompletion(bad, ctx)).toThrow(expect.objectContaining({ code: 'PROVIDER_MALFORMED_RESPONSE' }));
  });
});
