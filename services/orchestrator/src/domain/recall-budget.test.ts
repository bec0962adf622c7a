import { fitRecallToBudget, type ScoredNote } from './recall-budget.js';

/** One token per word, so budgets are easy to reason about. */
const words = (text: string): number => text.split(/\s+/).filter((w) => w !== '').length;

function note(id: string, content: string): ScoredNote {
  return { id, kind: 'reflex', content, score: 0.5, why: `keyword rank ${id}` };
}

describe('fitRecallToBudget', () => {
  it('takes memories in recall order while their prompt lines fit, recording exactly what goes in', () => {
    const fitted = fitRecallToBudget([note('1', 'a b c'), note('2', 'd e f')], 100, words);
    expect(fitted.notes).toEqual([
      { kind: 'reflex', content: 'a b c' },
      { kind: 'reflex', content: 'd e f' },
    ]);
    expect(fitted.recalled).toEqual([
      { id: '1', kind: 'reflex', score: 0.5, why: 'keyword rank 1', content: 'a b c' },
      { id: '2', kind: 'reflex', score: 0.5, why: 'keyword rank 2', content: 'd e f' },
    ]);
    // "- (reflex) a b c" is 5 words; the second line also pays for its newline.
    expect(fitted).toMatchObject({ tokens: 11, leftOut: 0, cut: false });
  });

  it('cuts the first memory that does not fit when the room is worth it, and stops there', () => {
    const long = Array.from({ length: 50 }, (_, i) => `w${i}`).join(' ');
    const fitted = fitRecallToBudget([note('1', 'a b c'), note('2', long), note('3', 'x')], 40, words, 10);
    expect(fitted.notes).toHaveLength(2);
    expect(fitted.recalled[1]?.content.endsWith(' …')).toBe(true);
    expect(fitted.tokens).toBeLessThanOrEqual(40);
    expect(fitted).toMatchObject({ leftOut: 2, cut: true });
  });

  it('leaves a memory out when the room left is too small to be worth a cut note', () => {
    const fitted = fitRecallToBudget([note('1', 'a b c'), note('2', 'd e f g h i j k')], 8, words, 5);
    expect(fitted.recalled.map((r) => r.id)).toEqual(['1']);
    expect(fitted).toMatchObject({ leftOut: 1, cut: false });
  });

  it('takes nothing with a budget of 0', () => {
    expect(fitRecallToBudget([note('1', 'a')], 0, words)).toMatchObject({ notes: [], recalled: [], tokens: 0, leftOut: 1 });
  });
});
