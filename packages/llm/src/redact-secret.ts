/**
 * Keeps API keys out of everything an adapter builds — messages, details, causes — because
 * providers echo keys back (OpenAI masks them, small servers may not) and SDKs put request URLs
 * (Gemini's `?key=`) into their errors.
 */

const REDACTED = '[redacted]';

/** Replaces every occurrence of `secret` and every `key=` query parameter in `text`. */
export function redactSecret(text: string, secret: string): string {
  const out = secret === '' ? text : text.split(secret).join(REDACTED);
  return out.replace(/([?&]key=)[^&\s"']+/g, `$1${REDACTED}`);
}

/** {@link redactSecret} over every string inside a JSON-like value (bounded in depth). */
export function redactSecretDeep(value: unknown, secret: string, depth = 0): unknown {
  if (typeof value === 'string') return redactSecret(value, secret);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactSecretDeep(v, secret, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecretDeep(v, secret, depth + 1)]));
}
