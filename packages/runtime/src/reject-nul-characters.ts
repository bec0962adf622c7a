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
 * @param fieldName How a key is named in the path (gRPC names proto fields: `test_command`).
 * @example
 * rejectNulCharacters({ goal: 'a\u0000b' }); // throws UserError "goal: must not contain NUL (\u0000) characters"
 */
export function rejectNulCharacters(input: unknown, path = '', fieldName: (key: string) => string = (key) => key): void {
  const found = findNul(input, path, new Set(), fieldName);
  if (found !== undefined) throw invalidField(found === '' ? 'value' : found, NUL_CHARACTER_PROBLEM);
}

/** A camelCase key as its proto field name: `testCommand` → `test_command`. */
export function protoFieldName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function findNul(value: unknown, path: string, seen: Set<object>, fieldName: (key: string) => string): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`, seen, fieldName);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  // Not text (bytes fields, timestamps). Anything else is walked by its own enumerable keys:
  // parsed bodies, query objects (fastify's have a null-prototype parent), proto messages.
  if (ArrayBuffer.isView(value) || value instanceof Date) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const name = fieldName(key);
    const found = findNul(item, path === '' ? name : `${path}.${name}`, seen, fieldName);
    if (found !== undefined) return found;
  }
  return undefined;
}
