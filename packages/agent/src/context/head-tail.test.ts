import { o200kCounter, type TokenCounter } from '@maestro/llm';
import { cutHeadTail, cutMarker } from './head-tail.js';
import { LONG_RUN_CHARS } from './message-tokens.js';

describe('cutHeadTail', () => {
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i}: some output of the command`);
  const output = lines.join('\n');

  it('keeps an output that fits as it is', () => {
    expect(cutHeadTail('short output', 100, o200kCounter)).toBe('short output');
  });

  it('keeps the head and the tail (the larger part) around a marker counting the lines cut', () => {
    const cut = cutHeadTail(output, 200, o200kCounter);
    const kept = cut.split('\n');
    const marker = kept.findIndex((line) => line.startsWith('[…'));
    const head = kept.slice(0, marker);
    const tail = kept.slice(marker + 1);
    expect(head[0]).toBe(lines[0]);
    expect(tail[tail.length - 1]).toBe(lines[399]);
    expect(tail.length).toBeGreaterThan(head.length);
    expect(kept[marker]).toBe(cutMarker(400 - head.length - tail.length));
    expect(o200kCounter.countTokens(cut)).toBeLessThanOrEqual(200 + 20);
  });

  it('cuts one enormous line by characters, never handing the tokenizer one long run whole (its time is quadratic in it)', () => {
    let longest = 0;
    const counter: TokenCounter = {
      ...o200kCounter,
      countTokens: (text, options) => {
        longest = Math.max(longest, text.length);
        return o200kCounter.countTokens(text, options);
      },
    };
    const cut = cutHeadTail('x'.repeat(50_000), 100, counter);
    expect(longest).toBeLessThanOrEqual(LONG_RUN_CHARS);
    expect(cut).toMatch(/^x+\[… \d+ characters cut …\]x+$/);
    expect(cut.length).toBeLessThan(1_000);
  });
});
