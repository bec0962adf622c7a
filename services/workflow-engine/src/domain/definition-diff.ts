/**
 * What changed between two versions of a definition document, as RFC 6901 JSON pointers
 * (`/states/plan/on/activity.done/target`). Objects are compared key by key (key order does not
 * matter, as for the content hash), arrays index by index; a value whose type changed is one
 * `changed` entry, not a removal plus additions below it.
 */

/** What happened at a path. */
export const DefinitionChangeOps = {
  added: 'added',
  removed: 'removed',
  changed: 'changed',
} as const;
/** One of {@link DefinitionChangeOps}. */
export type DefinitionChangeOp = (typeof DefinitionChangeOps)[keyof typeof DefinitionChangeOps];

/** One difference between two documents. */
export interface DefinitionChange {
  /** RFC 6901 JSON pointer; `""` is the whole document. */
  path: string;
  op: DefinitionChangeOp;
  /** The value in the first document (absent when added). */
  before?: unknown;
  /** The value in the second document (absent when removed). */
  after?: unknown;
}

/** One pointer segment, escaped as RFC 6901 says (`~` → `~0`, `/` → `~1`). */
export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The JSON pointer of a path of keys and indices. */
export function toJsonPointer(path: ReadonlyArray<string | number>): string {
  return path.map((segment) => `/${escapePointerSegment(String(segment))}`).join('');
}

function kindOf(value: unknown): 'array' | 'object' | 'scalar' {
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' && value !== null ? 'object' : 'scalar';
}

function collect(before: unknown, after: unknown, path: Array<string | number>, out: Array<{ path: Array<string | number>; change: DefinitionChange }>): void {
  const kind = kindOf(before);
  if (kind !== kindOf(after)) {
    out.push({ path, change: { path: toJsonPointer(path), op: 'changed', before, after } });
    return;
  }
  if (kind === 'scalar') {
    if (before !== after) out.push({ path, change: { path: toJsonPointer(path), op: 'changed', before, after } });
    return;
  }
  if (kind === 'array') {
    const a = before as unknown[];
    const b = after as unknown[];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const at = [...path, i];
      if (i >= a.length) out.push({ path: at, change: { path: toJsonPointer(at), op: 'added', after: b[i] } });
      else if (i >= b.length) out.push({ path: at, change: { path: toJsonPointer(at), op: 'removed', before: a[i] } });
      else collect(a[i], b[i], at, out);
    }
    return;
  }
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const has = (o: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const at = [...path, key];
    if (!has(a, key)) {
      if (has(b, key)) out.push({ path: at, change: { path: toJsonPointer(at), op: 'added', after: b[key] } });
    } else if (!has(b, key)) {
      out.push({ path: at, change: { path: toJsonPointer(at), op: 'removed', before: a[key] } });
    } else {
      collect(a[key], b[key], at, out);
    }
  }
}

/**
 * Orders paths segment by segment: array indices numerically, keys by code unit, a parent
 * before its children (so `/states/a` < `/states/a/on` < `/states/b`, and `/x/2` < `/x/10`).
 */
function comparePaths(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const sx = String(x);
    const sy = String(y);
    return sx < sy ? -1 : 1;
  }
  return a.length - b.length;
}

/** Every difference from `before` to `after` (two JSON documents), sorted by path; empty when equal. */
export function diffDefinitions(before: unknown, after: unknown): DefinitionChange[] {
  const found: Array<{ path: Array<string | number>; change: DefinitionChange }> = [];
  collect(before, after, [], found);
  return found.sort((x, y) => comparePaths(x.path, y.path)).map((entry) => entry.change);
}
