import { formatAge, formatDuration, formatTime, formatTokens, formatUsd } from './format';

describe('formatUsd', () => {
  it('shows small costs with four decimals, others with two, and says when unknown or unpriced', () => {
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(0.00123)).toBe('$0.0012');
    expect(formatUsd(1.234)).toBe('$1.23');
    expect(formatUsd(undefined)).toBe('—');
    expect(formatUsd(null, true)).toBe('unpriced');
    expect(formatUsd(0.5, true)).toBe('$0.50 + unpriced');
  });
});

describe('formatTokens', () => {
  it('abbreviates thousands and millions', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(1000)).toBe('1k');
    expect(formatTokens(12_345)).toBe('12.3k');
    expect(formatTokens(4_560_000)).toBe('4.56M');
    expect(formatTokens(undefined)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('picks the unit by size', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(5000)).toBe('5 s');
    expect(formatDuration(185_000)).toBe('3 m 05 s');
    expect(formatDuration(7_620_000)).toBe('2 h 07 m');
    expect(formatDuration(-1)).toBe('—');
  });
});

describe('formatAge', () => {
  const now = Date.parse('2030-01-02T03:04:05.000Z');
  it('counts from now', () => {
    expect(formatAge('2030-01-02T03:04:04.000Z', now)).toBe('just now');
    expect(formatAge('2030-01-02T03:03:50.000Z', now)).toBe('15 s ago');
    expect(formatAge('2030-01-02T02:59:05.000Z', now)).toBe('5 m ago');
    expect(formatAge('2030-01-01T03:04:05.000Z', now)).toBe('1 d ago');
    expect(formatAge(null, now)).toBe('—');
    expect(formatAge('nonsense', now)).toBe('—');
  });
});

describe('formatTime', () => {
  it('keeps milliseconds and says when unknown', () => {
    expect(formatTime('2030-01-02T03:04:05.007Z')).toMatch(/^\d\d:04:05\.007$/);
    expect(formatTime(null)).toBe('—');
  });
});
