/**
 * API keys (the text format is `@maestro/contracts`' `api-key.ts`, shared with the CLI): the id
 * is stored in the clear, of the secret only a SHA-256 hash is stored. The secret has 256 random bits, so a fast hash is enough; it
 * is compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export { API_KEY_PREFIX, formatApiKey, generateApiKey, parseApiKey, type ApiKeyParts, type GeneratedApiKey } from '@maestro/contracts';

/** The stored form of a secret: its SHA-256, hex. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** True when `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
