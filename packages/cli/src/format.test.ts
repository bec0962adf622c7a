import { formatAge, formatElapsed, formatProgress, formatTable, formatUsd, oneLine, spendOf } from './format.js';

describe('formatting', () => {
  it('writes durations as seconds, minutes and hours', () => {
    expect(formatElapsed(12_400)).toBe('12s');
    expect(formatElapsed(75_000)).toBe('1m15s');
    expect(formatElapsed(3_720_000)).toBe('1h02m');
    expect(formatElapsed(-5)).toBe('0s');
  });

  it('writes dollars with four decimals', () => {
    expect(formatUsd(0.01234)).toBe('$0.0123');
  });

  it('writes the progress line with tokens, cost and what was scripted', () => {
    const spend = spendOf({ inputTokens: 12_000, outputTokens: 345, costUsd: 0.5, scriptedCalls: 3, unpricedCalls: 0 });
    expect(formatProgress(65_000, spend, 'code')).toBe('progress elapsed 1m05s · 12,345 tokens · $0.5000 (3 scripted calls, free) · state code');
    expect(formatProgress(1000, spendOf({ inputTokens: 1, outputTokens: 1, costUsd: 0.1, unpricedCalls: 2 }), '')).toBe(
      'progress elapsed 1s · 2 tokens · $0.1000 (+2 unpriced calls)',
    );
  });

  it('says so when usage is unknown', () => {
    expect(spendOf(null)).toBeUndefined();
    expect(formatProgress(0, undefined, 'plan')).toBe('progress elapsed 0s · usage unknown · state plan');
  });

  it('aligns table columns, leaving the last unpadded', () => {
    expect(formatTable(['ID', 'STATUS', 'GOAL'], [['a', 'succeeded', 'x'], ['bbbb', 'failed', 'y y']])).toBe(
      ['ID    STATUS     GOAL', 'a     succeeded  x', 'bbbb  failed     y y'].join('\n'),
    );
  });

  it('cuts text to one line', () => {
    expect(oneLine('short', 10)).toBe('short');
    expect(oneLine('a much longer line', 6)).toBe('a muc…');
    expect(oneLine('first\nsecond', 20)).toBe('first…');
  });

  it('writes ages relative to now', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatAge('2026-01-01T11:59:55Z', now)).toBe('5s ago');
    expect(formatAge('2026-01-01T11:57:00Z', now)).toBe('3m ago');
    expect(formatAge('2025-12-30T12:00:00Z', now)).toBe('2d ago');
    expect(formatAge(null, now)).toBe('-');
  });
});
