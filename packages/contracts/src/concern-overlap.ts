/**
 * The one rule of which lock concerns overlap, shared by everyone who reasons about concerns:
 * the lock-manager (which grants them; its Redis scripts implement the same rule in Lua and the
 * contract suite checks they agree), Orion's scheduler (which orders subtasks whose concerns
 * overlap) and the executor (which knows what a held lease already covers). Works on canonical
 * concern names (`<kind>:<normalized value>`, as the lock-manager normalizes them).
 *
 * - `repo:`, `dir:` and `file:` share one path space: two of them overlap when their paths are
 *   equal, or when one is a `repo:`/`dir:` and the other's path lies under it.
 * - `git-index:`, `port:` and `resource:` stand alone: they overlap only an equal name.
 */

/** Concern kinds whose values are paths in one shared space. */
const PATH_SPACE_KINDS: ReadonlySet<string> = new Set(['repo', 'dir', 'file']);
/** Path kinds that cover everything under their path. */
const COVERING_KINDS: ReadonlySet<string> = new Set(['repo', 'dir']);

function pathOf(name: string): { kind: string; path: string } | undefined {
  const colon = name.indexOf(':');
  if (colon < 0) return undefined;
  const kind = name.slice(0, colon);
  return PATH_SPACE_KINDS.has(kind) ? { kind, path: name.slice(colon + 1) } : undefined;
}

/** True when `child` is `parent` or lies under it (`/` holds everything). */
export function isPathWithin(child: string, parent: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(`${parent}/`);
}

/**
 * True when two canonical concerns name overlapping things.
 *
 * @example
 * concernsOverlap('dir:/r/src', 'file:/r/src/a.ts') // true
 * concernsOverlap('repo:/r', 'dir:/r/src')          // true
 * concernsOverlap('dir:/r/src', 'dir:/r/srcx')      // false (siblings)
 * concernsOverlap('git-index:/r', 'repo:/r')        // false (git-index stands alone)
 */
export function concernsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = pathOf(a);
  const pb = pathOf(b);
  if (!pa || !pb) return false;
  if (pa.path === pb.path) return true;
  if (COVERING_KINDS.has(pa.kind) && isPathWithin(pb.path, pa.path)) return true;
  return COVERING_KINDS.has(pb.kind) && isPathWithin(pa.path, pb.path);
}

/**
 * True when holding `held` already grants `needed`: the same concern, or a `repo:`/`dir:` whose
 * path contains `needed`'s path (a lease on `dir:/r/src` covers `file:/r/src/a.ts`, not the
 * reverse).
 */
export function concernCovers(held: string, needed: string): boolean {
  if (held === needed) return true;
  const h = pathOf(held);
  const n = pathOf(needed);
  return h !== undefined && n !== undefined && COVERING_KINDS.has(h.kind) && isPathWithin(n.path, h.path);
}

/** The first pair `[a, b]` of overlapping concerns of two lists, or undefined. */
export function firstOverlap(a: readonly string[], b: readonly string[]): [string, string] | undefined {
  for (const x of a) for (const y of b) if (concernsOverlap(x, y)) return [x, y];
  return undefined;
}
