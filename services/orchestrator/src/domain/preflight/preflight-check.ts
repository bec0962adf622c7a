/**
 * What one preflight check found, and the verdict over all of them. Pure data and functions:
 * the adapters in `store/` look at the machine, the rules in `preflight-rules.ts` judge what they
 * saw, and this module says what a person reads (each check as a step, and the one message that
 * lists every violation and what to do about it).
 */

/** The checks, in the order preflight runs them. */
export const PreflightChecks = {
  binaries: 'binaries',
  repository: 'repository',
  indexLock: 'index-lock',
  orphans: 'orphans',
  ports: 'ports',
  disk: 'disk',
  baseline: 'baseline',
} as const;
export type PreflightCheck = (typeof PreflightChecks)[keyof typeof PreflightChecks];

/** How a check ended: fine as found, fine after a safe remedy, skipped, or a violation. */
export const CheckStatuses = {
  passed: 'passed',
  remedied: 'remedied',
  skipped: 'skipped',
  failed: 'failed',
} as const;
export type CheckStatus = (typeof CheckStatuses)[keyof typeof CheckStatuses];

/** One check's outcome. */
export interface CheckOutcome {
  check: PreflightCheck;
  status: CheckStatus;
  /** What was found (and done), for a person. */
  summary: string;
  /** For a violation: what to do about it. */
  remedy?: string;
}

/** Error code of a run that preflight stopped before any model was asked. */
export const PreflightErrorCodes = {
  failed: 'PREFLIGHT_FAILED',
} as const;

/** The outcomes that are violations. */
export function violationsOf(outcomes: readonly CheckOutcome[]): CheckOutcome[] {
  return outcomes.filter((o) => o.status === CheckStatuses.failed);
}

/** True when nothing stops the run. */
export function isClear(outcomes: readonly CheckOutcome[]): boolean {
  return violationsOf(outcomes).length === 0;
}

/**
 * The message of a stopped run: every violation with what to do, numbered.
 *
 * @example
 * violationMessage(outcomes);
 * // 'preflight found 2 problems; nothing was planned: (1) ports: 127.0.0.1:3000 is in use … — stop whatever listens there …; (2) …'
 */
export function violationMessage(outcomes: readonly CheckOutcome[]): string {
  const violations = violationsOf(outcomes);
  const items = violations.map((v, i) => `(${i + 1}) ${v.check}: ${v.summary}${v.remedy !== undefined ? ` — ${v.remedy}` : ''}`);
  return `preflight found ${violations.length} problem${violations.length === 1 ? '' : 's'} with the repository or this machine; no model was asked and nothing was planned: ${items.join('; ')}`;
}

/** One line for a check's step in the task's history. */
export function stepSummary(outcome: CheckOutcome): string {
  return `${outcome.check}: ${outcome.status}: ${outcome.summary}${outcome.remedy !== undefined ? ` (${outcome.remedy})` : ''}`;
}
