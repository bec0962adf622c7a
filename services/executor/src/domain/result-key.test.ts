import { fromResultKey, toResultKey } from './result-key.js';

// The KV key rule of @nats-io/kv: only [-/=.\w], no leading or trailing dot.
const validKey = (k: string) => /^[-/=.\w]+$/.test(k) && !k.startsWith('.') && !k.endsWith('.');

describe('toResultKey', () => {
  it('turns the usual subtaskId:attempt work id into a readable valid key', () => {
    expect(toResultKey('sub-1:2')).toBe('sub-1_3a2');
    expect(validKey(toResultKey('sub-1:2'))).toBe(true);
  });

  it('makes a valid key of any work id, including dots, spaces, wildcards and non-ASCII', () => {
    for (const id of ['.a.', 'a b', 'x.*.>', 'ü:1', 'task/1:3', '__', '='] ) {
      const key = toResultKey(id);
      expect(validKey(key)).toBe(true);
      expect(fromResultKey(key)).toBe(id);
    }
  });

  it('never maps two work ids to the same key', () => {
    // `_` is escaped too, so a literal "_3a" cannot collide with an encoded ":".
    expect(toResultKey('a_3a1')).not.toBe(toResultKey('a:1'));
    expect(toResultKey('a.1')).not.toBe(toResultKey('a:1'));
  });

  it('refuses an empty work id', () => {
    expect(() => toResultKey('')).toThrow(/must not be empty/);
  });
});
