import { OperationalError, UserError } from '@maestro/runtime';
import { StreamAssembler } from './stream-assembler.js';
import type { ReplyContext } from './from-openai-response.js';

const ctx: ReplyContext = {
  provider: 'openai',
  model: 'gpt-4o',
  apiKey: 'sk-secret',
  scripted: false,
  request: { messages: [{ role: 'user', content: 'hi' }], tools: [] },
};

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  id: 'c',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra,
});

function assemble(chunks: unknown[]) {
  const assembler = new StreamAssembler(ctx);
  const deltas = chunks.map((c) => assembler.push(c)).filter((d) => d !== '');
  return { deltas, result: assembler.finish() };
}

describe('StreamAssembler', () => {
  it('joins content deltas and keeps reasoning out of them', () => {
    const { deltas, result } = assemble([
      chunk({ role: 'assistant', content: null, reasoning_content: 'Think' }),
      chunk({ content: null, reasoning_content: 'ing.' }),
      chunk({ content: 'Hel', reasoning_content: null }),
      chunk({ content: 'lo' }),
      chunk({ content: '' }, 'stop'),
      { choices: [], usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10, completion_tokens_details: { reasoning_tokens: 3 } } },
    ]);
    expect(deltas).toEqual(['Hel', 'lo']);
    expect(result).toEqual({
      message: { role: 'assistant', content: 'Hello', reasoning: 'Thinking.' },
      usage: { inputTokens: 4, outputTokens: 6, reasoningTokens: 3 },
      finishReason: 'stop',
      scripted: false,
    });
  });

  it('assembles parallel tool calls by index, in index order, whatever order their pieces come in', () => {
    const { result } = assemble([
      chunk({ role: 'assistant', tool_calls: [
        { index: 1, id: 'b', type: 'function', function: { name: 'two', arguments: '' } },
        { index: 0, id: 'a', type: 'function', function: { name: 'one', arguments: '{"x"' } },
      ] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"y":2}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(result.message.toolCalls).toEqual([
      { id: 'a', name: 'one', argumentsJson: '{"x":1}' },
      { id: 'b', name: 'two', argumentsJson: '{"y":2}' },
    ]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('accepts an index starting at 1, a missing type, and calls without an index', () => {
    const first = assemble([chunk({ tool_calls: [{ index: 1, id: 'only', function: { name: 'read', arguments: '{}' } }] }), chunk({}, 'tool_calls')]);
    expect(first.result.message.toolCalls).toEqual([{ id: 'only', name: 'read', argumentsJson: '{}' }]);
    const noIndex = assemble([
      chunk({ tool_calls: [{ id: 'p', function: { name: 'a', arguments: '{"q":' } }] }),
      chunk({ tool_calls: [{ function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ id: 'r', function: { name: 'b', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(noIndex.result.message.toolCalls).toEqual([
      { id: 'p', name: 'a', argumentsJson: '{"q":1}' },
      { id: 'r', name: 'b', argumentsJson: '{}' },
    ]);
  });

  it('keeps Gemini thought signatures and makes an id when a server gives none', () => {
    const { result } = assemble([
      chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{}' }, extra_content: { google: { thought_signature: 'sig' } } }] }),
      chunk({}, 'stop'),
    ]);
    expect(result.message.toolCalls).toEqual([{ id: 'call_0', name: 'f', argumentsJson: '{}', thoughtSignature: 'sig' }]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('takes usage from the finish chunk (DeepSeek) and the last usage when every chunk has one', () => {
    const { result } = assemble([
      chunk({ content: 'a' }, null, { usage: { prompt_tokens: 2, completion_tokens: 0, total_tokens: 2 } }),
      chunk({ content: 'b' }, 'length', { usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4, prompt_cache_hit_tokens: 1 } }),
    ]);
    expect(result.usage).toEqual({ inputTokens: 2, outputTokens: 2, cachedInputTokens: 1 });
    expect(result.finishReason).toBe('length');
  });

  it('estimates usage when none came', () => {
    const { result } = assemble([chunk({ content: 'Hello there' }, 'stop')]);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBe(2);
  });

  it('keeps the finish reason when a trailing filter chunk has none', () => {
    const { result } = assemble([
      { choices: [], id: '', model: '', prompt_filter_results: [] },
      chunk({ content: 'Hi' }),
      chunk({}, 'stop'),
      { choices: [{ index: 0, finish_reason: null, content_filter_results: {} }] },
    ]);
    expect(result.finishReason).toBe('stop');
    expect(result.message.content).toBe('Hi');
  });

  it('a stream without a finish reason is PROVIDER_STREAM_INTERRUPTED', () => {
    const assembler = new StreamAssembler(ctx);
    assembler.push(chunk({ content: 'Hel' }));
    expect(() => assembler.finish()).toThrow(OperationalError);
    expect(() => assembler.finish()).toThrow(expect.objectContaining({ code: 'PROVIDER_STREAM_INTERRUPTED' }));
  });

  it('refusal deltas and content_filter are MODEL_REFUSED', () => {
    const refusal = new StreamAssembler(ctx);
    refusal.push(chunk({ refusal: "I can't" }));
    refusal.push(chunk({ refusal: ' help.' }, 'stop'));
    expect(() => refusal.finish()).toThrow(expect.objectContaining({ code: 'MODEL_REFUSED', message: expect.stringContaining("I can't help.") }));
    const filtered = new StreamAssembler(ctx);
    filtered.push(chunk({ content: 'x' }, 'content_filter'));
    expect(() => filtered.finish()).toThrow(UserError);
  });

  it('ignores chunks that are not objects or have no delta', () => {
    const assembler = new StreamAssembler(ctx);
    expect(assembler.push(null)).toBe('');
    expect(assembler.push('text')).toBe('');
    expect(assembler.push({ choices: [{ index: 0 }] })).toBe('');
    expect(assembler.push({ choices: 'nope' })).toBe('');
  });
});
