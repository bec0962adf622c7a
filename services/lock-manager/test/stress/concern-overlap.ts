/**
 * The overlap rule, written again for the tests on purpose (never imported from the service),
 * so a bug in the service's rule cannot hide itself: `repo:/r` and `dir:/r/a` cover every path
 * under them, `file:/r/a/x.ts` one path; two concerns overlap when their paths are equal or one
 * is a repo/dir whose path contains the other's. Other kinds overlap only when equal.
 */

const PATH_KINDS = new Set(['repo', 'dir', 'file']);
const CONTAINER_KINDS = new Set(['repo', 'dir']);

interface ParsedConcern {
  kind: string;
  path: string;
}

function parse(concern: string): ParsedConcern {
  const colon = concern.indexOf(':');
  if (colon <= 0) throw new Error(`test concern without a kind: ${concern}`);
  return { kind: concern.slice(0, colon), path: concern.slice(colon + 1) };
}

function contains(container: ParsedConcern, other: ParsedConcern): boolean {
  if (!CONTAINER_KINDS.has(container.kind)) return false;
  const root = container.path.endsWith('/') ? container.path : `${container.path}/`;
  return other.path.startsWith(root);
}

/** True when two concerns cover a common path (or are the same non-path concern). */
export function concernsOverlap(a: string, b: string): boolean {
  const left = parse(a);
  const right = parse(b);
  if (!PATH_KINDS.has(left.kind) || !PATH_KINDS.has(right.kind)) return a === b;
  return left.path === right.path || contains(left, right) || contains(right, left);
}

/** What one lease holds, split by mode. */
export interface HeldConcerns {
  exclusive: readonly string[];
  shared: readonly string[];
}

/**
 * True when two leases may not be held at once: some exclusive concern of one overlaps any
 * concern of the other (shared concerns conflict only with exclusive ones).
 */
export function leasesConflict(a: HeldConcerns, b: HeldConcerns): boolean {
  const all = (h: HeldConcerns): readonly string[] => [...h.exclusive, ...h.shared];
  return (
    a.exclusive.some((x) => all(b).some((y) => concernsOverlap(x, y))) ||
    b.exclusive.some((x) => all(a).some((y) => concernsOverlap(x, y)))
  );
}
