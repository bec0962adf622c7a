/**
 * Canonical JSON: object keys sorted at every level, so two equal documents have one text
 * (PostgreSQL's jsonb does not keep key order). Used to hash definitions, so saving the same
 * definition twice does not make a new version, and to compare snapshots.
 */
import { createHash } from 'node:crypto';

/** The canonical JSON text of a value (keys sorted; `undefined` members dropped as JSON does). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** sha256 (hex) of the canonical JSON of a value: the content hash of a definition version. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
