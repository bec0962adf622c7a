import { formatApiKey, generateApiKey, hashSecret, parseApiKey, secretMatches } from './api-key.js';

describe('API keys', () => {
  it('generates mk_<12-char id>_<43-char secret> keys that parse back into their parts', () => {
    const generated = generateApiKey();
    expect(generated.key).toMatch(/^mk_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(generated.key)).toEqual({ keyId: generated.keyId, secret: generated.secret });
    expect(formatApiKey(generated)).toBe(generated.key);
  });

  it('generates a different id and secret every time', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.secret).not.toBe(b.secret);
  });

  it('parses ids and secrets that contain the separator character itself', () => {
    const parts = { keyId: 'ab_cd-ef_gh_', secret: `_${'x'.repeat(41)}_` };
    expect(parseApiKey(formatApiKey(parts))).toEqual(parts);
  });

  it.each([
    ['empty', ''],
    ['no prefix', `xx_${'a'.repeat(12)}_${'b'.repeat(43)}`],
    ['short id', `mk_${'a'.repeat(11)}_${'b'.repeat(43)}`],
    ['short secret', `mk_${'a'.repeat(12)}_${'b'.repeat(42)}`],
    ['long secret', `mk_${'a'.repeat(12)}_${'b'.repeat(44)}`],
    ['bad character', `mk_${'a'.repeat(12)}_${'b'.repeat(42)}+`],
    ['a JWT', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
  ])('refuses %s', (_name, text) => {
    expect(parseApiKey(text)).toBeUndefined();
  });

  it('stores a SHA-256 hash that matches only its own secret', () => {
    const { secret } = generateApiKey();
    const hash = hashSecret(secret);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(secret);
    expect(secretMatches(secret, hash)).toBe(true);
    expect(secretMatches(generateApiKey().secret, hash)).toBe(false);
    expect(secretMatches(secret, 'not a hash')).toBe(false);
  });
});
