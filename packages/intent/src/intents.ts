/**
 * The intents a task goal can have. The intent picks the workflow definition and the model
 * tier, so the set is small and closed: anything new maps onto one of these.
 */

/** Every intent, by name (an `as const` object instead of an `enum`). */
export const Intents = {
  /** A design or architecture question, a proposal, a multi-step feature to think through. */
  Plan: 'plan',
  /** Implement or add a feature. */
  Code: 'code',
  /** Fix a bug, an error or a failing test. */
  Fix: 'fix',
  /** Restructure code without changing its behaviour. */
  Refactor: 'refactor',
  /** Write or change tests. */
  Test: 'test',
  /** Documentation, comments, READMEs, examples. */
  Docs: 'docs',
  /** A question about code or tools that needs an answer, not a change. */
  Explain: 'explain',
  /** Review or critique a change. */
  Review: 'review',
  /** Build, CI, deploy, release, dependencies, environment. */
  Ops: 'ops',
} as const;

/** One intent: `'plan' | 'code' | 'fix' | …`. */
export type Intent = (typeof Intents)[keyof typeof Intents];

/** Every intent in a fixed order; the classifier's weight vectors follow this order. */
export const intentList: readonly Intent[] = Object.freeze(Object.values(Intents));

const intentSet: ReadonlySet<string> = new Set(intentList);

/** True when `value` is one of the {@link Intents}, e.g. a label read from a file or the wire. */
export function isIntent(value: unknown): value is Intent {
  return typeof value === 'string' && intentSet.has(value);
}
