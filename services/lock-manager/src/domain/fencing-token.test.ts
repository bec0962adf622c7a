import { nextFencingToken } from './fencing-token.js';

describe('nextFencingToken', () => {
  it('is the store clock in µs when that is ahead of the last token', () => {
    expect(nextFencingToken(0, 1_735_689_600_000_000)).toBe(1_735_689_600_000_000);
    expect(nextFencingToken(5, 1_735_689_600_000_123.5)).toBe(1_735_689_600_000_123);
  });

  it('is last + 1 when the clock has not moved past it (several grants in one µs, or a clock behind)', () => {
    expect(nextFencingToken(1_735_689_600_000_000, 1_735_689_600_000_000)).toBe(1_735_689_600_000_001);
    expect(nextFencingToken(1_735_689_600_000_500, 1_735_689_600_000_000)).toBe(1_735_689_600_000_501);
  });

  it('stays exact within double precision for centuries of µs timestamps', () => {
    const year2200 = Date.parse('2200-01-01T00:00:00Z') * 1000;
    expect(Number.isSafeInteger(nextFencingToken(year2200, year2200))).toBe(true);
  });
});
