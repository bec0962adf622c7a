import { GeminiResponseAccumulator, MALFORMED_TOOL_CALL_MESSAGE, parseJsonPath, toUsage, type GeminiResponseLike } from './from-gemini-response.js';

const KEY = 'secret-key-123';

function chunk(parts: unknown[], extra: Record<string, unknown> = {}, candidateExtra: Record<string, unknown> = {}): GeminiResponseLike {
  return { candidates: [{ content: { role: 'model', parts }, ...candidateExtra }], ...extra } as GeminiResponseLike;
}

function collect(chunks: GeminiResponseLike[], streamed = true) {
  const acc = new GeminiResponseAccumulator({ apiKey: KEY });
  const deltas = chunks.map((c) => acc.add(c)).filter((d) => d !== '');
  return { deltas, result: acc.finish(streamed) };
}

describe('GeminiResponseAccumulator', () => {
  it('keeps thought text out of the content and the deltas, and carries the text signature', () => {
    const { deltas, result } = collect([
      chunk([{ text: 'Let me think', thought: true }]),
      chunk([{ text: 'Hello ' }]),
      chunk([{ text: 'world', thoughtSignature: 'sig-1' }], {}, { finishReason: 'STOP' }),
    ]);
    expect(deltas).toEqual(['Hello ', 'world']);
    expect(result.message).toEqual({ role: 'assistant', content: 'Hello world', reasoning: 'Let me think', thoughtSignature: 'sig-1' });
    expect(result.finishReason).toBe('stop');
    expect(result.scripted).toBe(false);
  });

  it('assembles Vertex partial arguments (strings continued, nested paths, several calls)', () => {
    const { result } = collect([
      chunk([{ functionCall: { name: 'write', willContinue: true }, thoughtSignature: 'sig-call' }]),
      chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.path', stringValue: 'src/', willContinue: true }], willContinue: true } }]),
      chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.path', stringValue: 'a.js' }], willContinue: true } }]),
      chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.opts.mode', numberValue: 420 }, { jsonPath: "$.tags[1]", boolValue: true }], willContinue: true } }]),
      chunk([{ functionCall: {} }]),
      chunk([{ functionCall: { name: 'read', args: { path: 'b.js' } } }], {}, { finishReason: 'STOP' }),
    ]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.message.toolCalls?.map((c) => [c.name, JSON.parse(c.argumentsJson), c.thoughtSignature])).toEqual([
      ['write', { path: 'src/a.js', opts: { mode: 420 }, tags: [null, true] }, 'sig-call'],
      ['read', { path: 'b.js' }, undefined],
    ]);
  });

  it('keeps Gemini call ids and generates stable, distinct ones when absent', () => {
    const parts = [{ functionCall: { name: 'a', args: {} } }, { functionCall: { id: 'given', name: 'b' } }, { functionCall: { name: 'a', args: {} } }];
    const one = collect([chunk(parts, { responseId: 'r1' }, { finishReason: 'STOP' })], false).result;
    const again = collect([chunk(parts, { responseId: 'r1' }, { finishReason: 'STOP' })], false).result;
    const other = collect([chunk(parts, { responseId: 'r2' }, { finishReason: 'STOP' })], false).result;
    const ids = one.message.toolCalls?.map((c) => c.id) ?? [];
    expect(ids[1]).toBe('given');
    expect(ids[0]).toMatch(/^call_0_[0-9a-f]{10}$/);
    expect(new Set(ids).size).toBe(3);
    expect(again.message.toolCalls?.map((c) => c.id)).toEqual(ids);
    expect(other.message.toolCalls?.[0]?.id).not.toBe(ids[0]);
  });

  it('drops calls the server already answered (server-side tools)', () => {
    const { result } = collect([
      chunk([{ functionCall: { name: 'mcp_tool', args: { q: 1 } } }], {}, { finishReason: 'STOP' }),
      chunk([{ functionResponse: { name: 'mcp_tool', response: { result: 'x' } } }]),
      chunk([{ text: 'Answer.' }], {}, { finishReason: 'STOP' }),
    ]);
    expect(result.message.toolCalls).toBeUndefined();
    expect(result.message.content).toBe('Answer.');
    expect(result.finishReason).toBe('stop');
  });

  it('maps finish reasons: MAX_TOKENS, malformed calls, unknown values', () => {
    expect(collect([chunk([{ text: 'cut' }], {}, { finishReason: 'MAX_TOKENS' })]).result.finishReason).toBe('length');
    const malformed = collect([chunk([], {}, { finishReason: 'MALFORMED_FUNCTION_CALL' })]).result;
    expect(malformed).toMatchObject({ finishReason: 'malformed_tool_call', message: { content: MALFORMED_TOOL_CALL_MESSAGE } });
    const said = collect([chunk([], {}, { finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call: print(' })]).result;
    expect(said.message.content).toBe('Malformed function call: print(');
    const unknown = collect([chunk([{ text: 'ok' }], {}, { finishReason: 'SOMETHING_NEW' })]).result;
    expect(unknown).toMatchObject({ finishReason: 'stop', message: { content: 'ok' } });
  });

  it('raises MODEL_REFUSED naming the reason, for a finish reason or a blocked prompt', () => {
    const acc = new GeminiResponseAccumulator({ apiKey: KEY });
    expect(() => acc.add(chunk([{ text: 'x' }], {}, { finishReason: 'PROHIBITED_CONTENT' }))).toThrow(
      expect.objectContaining({ code: 'MODEL_REFUSED', message: expect.stringContaining('PROHIBITED_CONTENT') }),
    );
    const blocked = new GeminiResponseAccumulator({ apiKey: KEY });
    expect(() => blocked.add({ promptFeedback: { blockReason: 'BLOCKLIST' } } as GeminiResponseLike)).toThrow(
      expect.objectContaining({ code: 'MODEL_REFUSED', message: expect.stringContaining('BLOCKLIST') }),
    );
  });

  it('treats missing finish reasons and empty answers as broken responses', () => {
    expect(() => collect([chunk([{ text: 'half' }])], true)).toThrow(expect.objectContaining({ code: 'PROVIDER_STREAM_INTERRUPTED' }));
    expect(() => collect([], true)).toThrow(expect.objectContaining({ code: 'PROVIDER_MALFORMED_RESPONSE' }));
    expect(() => collect([{ candidates: [] } as GeminiResponseLike], false)).toThrow(
      expect.objectContaining({ code: 'PROVIDER_MALFORMED_RESPONSE' }),
    );
    // A one-shot response without a finish reason but with text is an answer.
    expect(collect([chunk([{ text: 'fine' }])], false).result.message.content).toBe('fine');
  });

  it('says scripted when the fake server marked the reply', () => {
    const marked = { ...chunk([{ text: 'hi' }], {}, { finishReason: 'STOP' }), sdkHttpResponse: { headers: { 'x-maestro-fake': 'scripted' } } };
    expect(collect([marked as unknown as GeminiResponseLike]).result.scripted).toBe(true);
  });
});

describe('toUsage', () => {
  it('counts thoughts as output and cached tokens inside the input', () => {
    expect(
      toUsage({ promptTokenCount: 100, cachedContentTokenCount: 60, candidatesTokenCount: 10, thoughtsTokenCount: 30, toolUsePromptTokenCount: 5 }),
    ).toEqual({ inputTokens: 105, outputTokens: 40, cachedInputTokens: 60, reasoningTokens: 30 });
    expect(toUsage(undefined)).toEqual({ inputTokens: 0, outputTokens: 0 });
  });
});

describe('parseJsonPath', () => {
  it('reads dotted keys, indexes and quoted keys', () => {
    expect(parseJsonPath('$.a.b[2]')).toEqual(['a', 'b', 2]);
    expect(parseJsonPath("$['x y'][0]")).toEqual(['x y', 0]);
    expect(parseJsonPath('a.b')).toBeUndefined();
    expect(parseJsonPath('$.a..b')).toBeUndefined();
  });
});
