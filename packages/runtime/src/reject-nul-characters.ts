/**
 * The one check for U+0000 in request text. PostgreSQL refuses NUL in `text` and `jsonb`, so a
 * stray `\u0000` in a goal or a memory would otherwise surface as a 500 from deep inside a
 * store; each edge (the gateway's requests, the gRPC entry of every service that stores text)
 * runs this once over the whole input instead, and the caller gets a bad-input error naming
 * the field.
 */
import { invalidField } from './errors.js';

const NUL = '\u0000';

/** The message of the error {@link rejectNulCharacters} throws, after the field name. */
export const NUL_CHARACTER_PROBLEM = 'must not contain NUL (\\u0000) characters';

/**
 * Throws `invalidField(path, …)` for the first string in `input` that contains U+0000,
 * walking objects and arrays depth first in key order. Paths read as the caller wrote the
 * request: `goal`, `testCommand[1]`, `options.name`. Bytes (`Uint8Array`) and dates are not
 * text and are skipped.
 *
 * @param input A request (or part of one) that has passed its schema.
 * @param path The field name of `input` itself; needed only when `input` is a string.
 * @example
 * rejectNulCharacters({ goal: 'a\u0000b' }); // throws UserError "goal: must not contain NUL (\u0000) characters"
 */
export function rejectNulCharacters(input: unknown, path = ''): void {
  const found = findNul(input, path, new Set());
  if (found !== undefined) throw invalidField(found === '' ? 'value' : found, NUL_CHARACTER_PROBLEM);
}

function findNul(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  // Not text (bytes fields, timestamps). Anything else is walked by its own enumerable keys:
  // parsed bodies, query objects (fastify's have a null-prototype parent), proto messages.
  if (ArrayBuffer.isView(value) || value instanceof Date) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = findNul(item, path === '' ? key : `${path}.${key}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
