/**
 * The storage-side fencing check of the merge queue. Every lock-manager grant carries a fencing
 * token that only grows; the repository records, in `refs/maestro/fence/git-index` (a blob whose
 * content is the token), the highest token that ever moved a task branch. A merge whose lease
 * token is lower than the recorded one comes from a writer whose lease expired and was granted
 * to someone else since: it is refused, however late it arrives.
 */
import { UserError } from '@maestro/runtime';

/** Error codes of fencing. */
export const FenceErrors = {
  /** The lease's fencing token is lower than one already recorded: a newer holder has written. */
  fenced: 'FENCED',
} as const;
/** One of {@link FenceErrors}. */
export type FenceError = (typeof FenceErrors)[keyof typeof FenceErrors];

/**
 * The token stored in the fence blob, or undefined when there is none yet. A blob that is not a
 * non-negative integer is refused: guessing a value would turn fencing off.
 */
export function parseFenceToken(content: string | undefined): number | undefined {
  if (content === undefined) return undefined;
  const text = content.trim();
  if (!/^\d{1,16}$/.test(text)) throw new Error(`fence blob holds "${text.slice(0, 40)}", not a fencing token`);
  return Number(text);
}

/** The blob content recording `token`. */
export function formatFenceToken(token: number): string {
  if (!Number.isSafeInteger(token) || token < 0) throw new Error(`fencing token must be a non-negative integer, got ${token}`);
  return `${token}\n`;
}

/**
 * Throws `FENCED` when `leaseToken` is lower than the `recorded` one. An equal token is the same
 * grant (the same lease merging again after a conflict), so it passes.
 */
export function assertNotFenced(leaseToken: number, recorded: number | undefined): void {
  if (recorded !== undefined && leaseToken < recorded) {
    throw new UserError(
      FenceErrors.fenced,
      `fencing token ${leaseToken} is lower than ${recorded}, already recorded by a later lease of the git index: this lease expired and was granted again, so its merge is refused`,
      { reason: 'precondition', details: { leaseToken, recorded } },
    );
  }
}
