/**
 * The conflict rule, in one pure place: which canonical concerns overlap, and when two holds on
 * overlapping concerns conflict. The Redis scripts implement the same rule in Lua; the contract
 * suite checks that both agree.
 *
 * - `repo:`, `dir:` and `file:` share one path space: two of them overlap when their paths are
 *   equal, or when one is a `repo:`/`dir:` and the other's path lies under its path.
 * - `git-index:`, `port:` and `resource:` stand alone: they overlap only an equal name.
 * - Two overlapping concerns conflict unless both are held in shared (read) mode.
 */
import { concernsOverlap } from '@maestro/contracts';

/** How a concern is held. */
export const ConcernModes = {
  /** Readers: any number may hold overlapping shared concerns together. */
  shared: 'shared',
  /** Writers: an exclusive concern excludes every overlapping concern, shared or not. */
  exclusive: 'exclusive',
} as const;
/** One of {@link ConcernModes}. */
export type ConcernMode = (typeof ConcernModes)[keyof typeof ConcernModes];

/** The concerns of one lease or request, by mode (canonical names). */
export interface ConcernSet {
  /** Held exclusively (write). */
  readonly concerns: readonly string[];
  /** Held in shared mode (read). */
  readonly sharedConcerns: readonly string[];
}

/** The first pair of concerns that makes two sets conflict. */
export interface ConcernClash {
  /** The concern of the requesting set. */
  readonly requested: string;
  /** The overlapping concern of the other set. */
  readonly held: string;
  /** Mode the other set holds `held` in. */
  readonly heldMode: ConcernMode;
}

/**
 * True when two canonical concerns name overlapping things: `@maestro/contracts`' one rule,
 * which Orion's scheduler and the executor use too.
 *
 * @example
 * concernsOverlap('dir:/r/src', 'file:/r/src/a.ts') // true
 * concernsOverlap('dir:/r/src', 'dir:/r/srcx')      // false (siblings)
 * concernsOverlap('git-index:/r', 'repo:/r')        // false (git-index stands alone)
 */
export { concernsOverlap };

/** True when a concern held in `aMode` and one held in `bMode` cannot be held together. */
export function concernsConflict(a: string, aMode: ConcernMode, b: string, bMode: ConcernMode): boolean {
  if (aMode === ConcernModes.shared && bMode === ConcernModes.shared) return false;
  return concernsOverlap(a, b);
}

/**
 * The first clash between what `request` asks for and what `other` holds (or waits for), or
 * `undefined` when both can be held at once. Exclusive concerns are checked first, so the clash
 * named is the most telling one.
 */
export function findClash(request: ConcernSet, other: ConcernSet): ConcernClash | undefined {
  const mine: Array<[string, ConcernMode]> = [
    ...request.concerns.map((c): [string, ConcernMode] => [c, ConcernModes.exclusive]),
    ...request.sharedConcerns.map((c): [string, ConcernMode] => [c, ConcernModes.shared]),
  ];
  const theirs: Array<[string, ConcernMode]> = [
    ...other.concerns.map((c): [string, ConcernMode] => [c, ConcernModes.exclusive]),
    ...other.sharedConcerns.map((c): [string, ConcernMode] => [c, ConcernModes.shared]),
  ];
  for (const [requested, mode] of mine) {
    for (const [held, heldMode] of theirs) {
      if (concernsConflict(requested, mode, held, heldMode)) return { requested, held, heldMode };
    }
  }
  return undefined;
}
