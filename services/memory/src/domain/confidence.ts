/**
 * How much recall trusts a learned reflex: it starts at 0.6, gains 0.1 with each verified
 * outcome that confirms it (at most 0.95: a lesson is never as sure as what a person wrote),
 * halves every 90 days since its last confirmation, and expires 180 days after it. What a
 * person wrote keeps confidence 1 and never decays.
 */
import type { Memory } from './memory.js';

/** The reflex trust policy; every field has a default in {@link REFLEX_POLICY_DEFAULTS}. */
export interface ReflexPolicy {
  /** Confidence of a lesson learned once. @default 0.6 */
  readonly initialConfidence: number;
  /** Added by each confirmation (a duplicate merged). @default 0.1 */
  readonly confirmationStep: number;
  /** Ceiling of a learned reflex's confidence. @default 0.95 */
  readonly maxConfidence: number;
  /** Days for the effective confidence to halve since the last confirmation. @default 90 */
  readonly halfLifeDays: number;
  /** Days after the last confirmation when the reflex expires. @default 180 */
  readonly ttlDays: number;
}

/** The defaults of {@link ReflexPolicy}. */
export const REFLEX_POLICY_DEFAULTS: ReflexPolicy = Object.freeze({
  initialConfidence: 0.6,
  confirmationStep: 0.1,
  maxConfidence: 0.95,
  halfLifeDays: 90,
  ttlDays: 180,
});

const DAY_MS = 86_400_000;

/** The confidence after one more confirmation. */
export function confirmedConfidence(current: number, policy: ReflexPolicy): number {
  return roundConfidence(Math.min(policy.maxConfidence, Math.max(current, 0) + policy.confirmationStep));
}

/** When a reflex confirmed at `confirmedAt` expires. */
export function reflexExpiry(confirmedAt: Date, policy: ReflexPolicy): Date {
  return new Date(confirmedAt.getTime() + policy.ttlDays * DAY_MS);
}

/**
 * The confidence recall uses at `now`: the stored one, halved every `halfLifeDays` since the
 * last confirmation. A memory without one (a person's) does not decay.
 */
export function effectiveConfidence(memory: Pick<Memory, 'confidence' | 'confirmedAt'>, now: Date, policy: ReflexPolicy): number {
  if (memory.confirmedAt === undefined) return memory.confidence;
  const ageDays = Math.max(0, now.getTime() - memory.confirmedAt.getTime()) / DAY_MS;
  return memory.confidence * 0.5 ** (ageDays / policy.halfLifeDays);
}

/** Confidences are kept to three decimals, so 0.6 + 0.1 + 0.1 is 0.8 and not 0.7999999. */
function roundConfidence(value: number): number {
  return Math.round(value * 1000) / 1000;
}
