import { redactSecret, redactSecretDeep } from './redact-secret.js';

const KEY = 'sk-live-abcdef123456';

describe('redactSecret', () => {
  it('removes every occurrence and leaves other text alone', () => {
    expect(redactSecret(`a ${KEY} b ${KEY}`, KEY)).toBe('a [redacted] b [redacted]');
    expect(redactSecret('nothing here', KEY)).toBe('nothing here');
    expect(redactSecret('text', '')).toBe('text');
  });

  it('removes the key and key= query parameters', () => {
    expect(redactSecret(`a ${KEY} b ?key=other&x=1`, KEY)).toBe('a [redacted] b ?key=[redacted]&x=1');
  });

  it('reaches strings inside objects and arrays', () => {
    expect(redactSecretDeep({ a: [`x ${KEY}`], b: { c: KEY }, n: 3 }, KEY)).toEqual({ a: ['x [redacted]'], b: { c: '[redacted]' }, n: 3 });
  });
});
