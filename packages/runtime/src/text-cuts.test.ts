import { cutEnd, cutMiddle } from './text-cuts.js';

describe('cutEnd and cutMiddle', () => {
  it('keeps texts within the bound as they are', () => {
    expect(cutEnd('abc', 3)).toBe('abc');
    expect(cutMiddle('abc', 3)).toBe('abc');
  });

  it('cut a longer text to the bound, marker included, saying how much is missing', () => {
    const text = `HEAD-${'x'.repeat(500)}-TAIL`;
    const end = cutEnd(text, 100);
    expect(end.length).toBeLessThanOrEqual(100);
    expect(end.startsWith('HEAD-')).toBe(true);
    expect(end).toMatch(/\n\[… \d+ characters cut …\]\n$/);
    const middle = cutMiddle(text, 100);
    expect(middle.length).toBeLessThanOrEqual(100);
    expect(middle.startsWith('HEAD-')).toBe(true);
    expect(middle.endsWith('-TAIL')).toBe(true);
    const omitted = Number(/\[… (\d+) characters cut …\]/.exec(middle)?.[1]);
    expect(middle.length - `\n[… ${omitted} characters cut …]\n`.length + omitted).toBe(text.length);
  });
});
