import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import { countMessageTokens, countTokens, createTokenCounter, encodeTokens } from './token-counter.js';
import type { ChatMessage } from './messages.js';

// Read in place (never copied): exact ids from tiktoken, gpt-tokenizer and the openai-cookbook.
const vectors = JSON.parse(
  readFileSync(join(__dirname, '../../../../shared/corpora/tokens/tiktoken_vectors.json'), 'utf8'),
) as {
  cases: Array<{ encoding: string; text: string; tokens: number[]; count: number; allowed_special?: 'all' }>;
  chat_count_case: { messages: ChatMessage[]; expected: Record<string, number> };
};

const o200k = vectors.cases.filter((c) => c.encoding === 'o200k_base');
// One upstream case is left out on purpose: " \x85" + "0". The Rust tiktoken's regex counts U+0085
// (NEL) as whitespace and JavaScript's `\s` does not, so js-tiktoken splits it differently; a
// known js-tiktoken divergence on a control character, documented in the README.
const isNelCase = (text: string): boolean => text.includes('\u0085');
const cl100k = vectors.cases.filter((c) => c.encoding === 'cl100k_base' && !isNelCase(c.text));

describe('o200k_base token ids', () => {
  it('has cases to check', () => {
    expect(o200k.length).toBeGreaterThan(50);
    expect(o200k.some((c) => isNelCase(c.text))).toBe(false);
  });

  it.each(o200k.map((c) => [c.text.slice(0, 40), c] as const))('encodes %j exactly', (_label, c) => {
    const options = c.allowed_special === undefined ? {} : { allowedSpecial: c.allowed_special };
    expect(encodeTokens(c.text, options)).toEqual(c.tokens);
    expect(countTokens(c.text, options)).toBe(c.count);
  });
});

describe('cl100k_base token ids (through createTokenCounter)', () => {
  const counter = createTokenCounter(cl100kBase);
  it.each(cl100k.map((c) => [c.text.slice(0, 40), c] as const))('encodes %j exactly', (_label, c) => {
    const options = c.allowed_special === undefined ? {} : { allowedSpecial: c.allowed_special };
    expect(counter.encode(c.text, options)).toEqual(c.tokens);
  });

  it('counts a chat conversation with the openai-cookbook rule', () => {
    expect(counter.countMessageTokens(vectors.chat_count_case.messages)).toBe(
      vectors.chat_count_case.expected['gpt-4-0613'],
    );
  });
});

describe('special tokens in ordinary text', () => {
  it('counts "<|endoftext|>" as plain text by default instead of throwing', () => {
    const text = 'hello <|endoftext|>';
    expect(countTokens(text)).toBeGreaterThan(2);
    expect(countTokens(text, { allowedSpecial: 'all' })).toBe(3);
  });
});

describe('countMessageTokens', () => {
  it('charges tool calls and names on top of content', () => {
    const plain: ChatMessage[] = [{ role: 'assistant', content: 'ok' }];
    const withCall: ChatMessage[] = [
      { role: 'assistant', content: 'ok', toolCalls: [{ id: 'c1', name: 'fs.read', argumentsJson: '{"path":"a.js"}' }] },
    ];
    expect(countMessageTokens(withCall)).toBe(
      countMessageTokens(plain) + countTokens('fs.read') + countTokens('{"path":"a.js"}'),
    );
    expect(countMessageTokens([])).toBe(3);
  });
});
