/**
 * The one check for numbers that are not finite. Ajv coerces the query text `1e309` to
 * `Infinity`, and `JSON.parse` reads `1e309` in a body as `Infinity` too; Ajv's `integer`,
 * `minimum` and `maximum` checks let `Infinity` through, so `?limit=1e309` would otherwise reach
 * an upstream call as a page size. Run once over what passed the route's schema, like the NUL
 * check, answering 400 naming the field.
 */
import { invalidField } from '@maestro/runtime';

/**
 * Throws `invalidField(path, …)` for the first number in `input` that is `Infinity`, `-Infinity`
 * or `NaN`, walking objects and arrays depth first; paths read as the request was written
 * (`limit`, `budget.usd`, `items[2]`).
 *
 * @example
 * rejectNonFiniteNumbers({ limit: Infinity }); // throws UserError "limit: must be a finite number"
 */
export function rejectNonFiniteNumbers(input: unknown, path = ''): void {
  const found = findNonFinite(input, path, new Set());
  if (found !== undefined) throw invalidField(found === '' ? 'value' : found, 'must be a finite number');
}

function findNonFinite(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNonFinite(item, `${path}[${i}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = findNonFinite(item, path === '' ? key : `${path}.${key}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
