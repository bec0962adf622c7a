import type { ChatMessage } from '../../messages.js';
import { GeminiResponseAccumulator, type GeminiResponseLike } from './from-gemini-response.js';
import { toArgs, toGeminiRequest } from './to-gemini-request.js';

describe('toGeminiRequest', () => {
  it('puts leading system messages in systemInstruction and keeps a later one in place', () => {
    const request = toGeminiRequest(
      [
        { role: 'system', content: 'Be terse.' },
        { role: 'system', content: 'Use tools.' },
        { role: 'user', content: 'Hi' },
        { role: 'system', content: 'Budget almost spent.' },
      ],
      [],
    );
    expect(request.systemInstruction).toEqual({ parts: [{ text: 'Be terse.' }, { text: 'Use tools.' }] });
    expect(request.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'user', parts: [{ text: 'Budget almost spent.' }] },
    ]);
    expect(request.tools).toBeUndefined();
  });

  it('sends assistant turns as model turns and consecutive tool results as one user turn', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Read both' },
      {
        role: 'assistant',
        content: '',
        reasoning: 'not sent back',
        toolCalls: [
          { id: 'c1', name: 'fs.read', argumentsJson: '{"path":"a"}', thoughtSignature: 'sig-a' },
          { id: 'c2', name: 'fs.read', argumentsJson: 'not json' },
        ],
      },
      { role: 'tool', toolCallId: 'c1', name: 'fs.read', content: 'A' },
      { role: 'tool', toolCallId: 'c2', content: 'B' },
      { role: 'user', content: 'Thanks' },
    ];
    const request = toGeminiRequest(messages, [{ name: 'fs.read', description: 'Read a file', parameters: { type: 'object' } }]);
    expect(request.contents).toEqual([
      { role: 'user', parts: [{ text: 'Read both' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { id: 'c1', name: 'fs.read', args: { path: 'a' } }, thoughtSignature: 'sig-a' },
          { functionCall: { id: 'c2', name: 'fs.read', args: { _raw_arguments: 'not json' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { id: 'c1', name: 'fs.read', response: { output: 'A' } } },
          // The name comes from the call when the tool message has none.
          { functionResponse: { id: 'c2', name: 'fs.read', response: { output: 'B' } } },
        ],
      },
      { role: 'user', parts: [{ text: 'Thanks' }] },
    ]);
    expect(request.tools).toEqual([
      { functionDeclarations: [{ name: 'fs.read', description: 'Read a file', parametersJsonSchema: { type: 'object' } }] },
    ]);
  });

  it('carries thought signatures from a response back to the next turn exactly as received', () => {
    const response = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'pondering', thought: true },
              { text: 'I will look.', thoughtSignature: 'U0lHLVRFWFQ=' },
              { functionCall: { name: 'weather', args: { city: 'Oslo' } }, thoughtSignature: 'U0lHLUNBTEw=' },
              { functionCall: { name: 'time', args: {} } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    } as GeminiResponseLike;
    const acc = new GeminiResponseAccumulator({ apiKey: 'k' });
    acc.add(response);
    const { message } = acc.finish(false);
    const [first, second] = message.toolCalls ?? [];
    const next = toGeminiRequest([message], []);
    expect(next.contents).toEqual([
      {
        role: 'model',
        parts: [
          { text: 'I will look.', thoughtSignature: 'U0lHLVRFWFQ=' },
          { functionCall: { id: first?.id, name: 'weather', args: { city: 'Oslo' } }, thoughtSignature: 'U0lHLUNBTEw=' },
          { functionCall: { id: second?.id, name: 'time', args: {} } },
        ],
      },
    ]);
  });

  it('keeps a signature that came on an empty text part', () => {
    const next = toGeminiRequest([{ role: 'assistant', content: '', thoughtSignature: 'c2ln' }], []);
    expect(next.contents).toEqual([{ role: 'model', parts: [{ text: '', thoughtSignature: 'c2ln' }] }]);
  });
});

describe('toArgs', () => {
  it('passes objects and wraps anything else', () => {
    expect(toArgs('{"a":1}')).toEqual({ a: 1 });
    expect(toArgs('[1]')).toEqual({ _raw_arguments: '[1]' });
    expect(toArgs('{oops')).toEqual({ _raw_arguments: '{oops' });
  });
});
