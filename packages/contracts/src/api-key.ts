/**
 * The gateway's API keys as text: `mk_<keyId>_<secret>`, a 12-character base64url id (9 random
 * bytes; it names the key in lists and logs) and a 43-character base64url secret (32 random
 * bytes). One format for every party: the gateway issues and checks keys, `maestro up` makes the
 * operator's bootstrap key, the CLI and the viewer send them as `Authorization: Bearer <key>`.
 * Both parts have a fixed length, so the `_` that base64url may hold inside them is no separator.
 */
import { randomBytes } from 'node:crypto';

/** What every key starts with, so a key is recognisable (and a scanner can find a leaked one). */
export const API_KEY_PREFIX = 'mk_';

const KEY_ID_BYTES = 9; // 12 base64url characters
const SECRET_BYTES = 32; // 43 base64url characters
const KEY_PATTERN = /^mk_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;

/** The parts of an API key. */
export interface ApiKeyParts {
  readonly keyId: string;
  readonly secret: string;
}

/** A newly generated key: its parts and the full key text shown once to its owner. */
export interface GeneratedApiKey extends ApiKeyParts {
  readonly key: string;
}

/** The key text of `parts`. */
export function formatApiKey(parts: ApiKeyParts): string {
  return `${API_KEY_PREFIX}${parts.keyId}_${parts.secret}`;
}

/** The parts of `text`, or undefined when it is not an API key. */
export function parseApiKey(text: string): ApiKeyParts | undefined {
  const match = KEY_PATTERN.exec(text);
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined;
}

/** A fresh key with a random id and secret (from the system's CSPRNG). */
export function generateApiKey(): GeneratedApiKey {
  const parts = { keyId: randomBytes(KEY_ID_BYTES).toString('base64url'), secret: randomBytes(SECRET_BYTES).toString('base64url') };
  return { ...parts, key: formatApiKey(parts) };
}
