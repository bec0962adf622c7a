import { confirmedConfidence, effectiveConfidence, REFLEX_POLICY_DEFAULTS, reflexExpiry } from './confidence.js';

const policy = REFLEX_POLICY_DEFAULTS;
const DAY = 86_400_000;
const t0 = new Date('2030-01-01T00:00:00.000Z');

describe('reflex confidence', () => {
  it('rises by 0.1 per confirmation up to 0.95, without float drift', () => {
    const steps = [policy.initialConfidence];
    for (let i = 0; i < 5; i++) steps.push(confirmedConfidence(steps[steps.length - 1]!, policy));
    expect(steps).toEqual([0.6, 0.7, 0.8, 0.9, 0.95, 0.95]);
  });

  it('halves every 90 days since the last confirmation; a person\'s memory never decays', () => {
    const learned = { confidence: 0.8, confirmedAt: t0 };
    expect(effectiveConfidence(learned, t0, policy)).toBe(0.8);
    expect(effectiveConfidence(learned, new Date(t0.getTime() + 90 * DAY), policy)).toBeCloseTo(0.4, 12);
    expect(effectiveConfidence(learned, new Date(t0.getTime() + 180 * DAY), policy)).toBeCloseTo(0.2, 12);
    // A clock behind the confirmation never raises it.
    expect(effectiveConfidence(learned, new Date(t0.getTime() - DAY), policy)).toBe(0.8);
    expect(effectiveConfidence({ confidence: 1, confirmedAt: undefined }, new Date(t0.getTime() + 9_000 * DAY), policy)).toBe(1);
  });

  it('expires 180 days after the last confirmation', () => {
    expect(reflexExpiry(t0, policy)).toEqual(new Date('2030-06-30T00:00:00.000Z'));
    expect(reflexExpiry(t0, { ...policy, ttlDays: 1 })).toEqual(new Date('2030-01-02T00:00:00.000Z'));
  });
});
