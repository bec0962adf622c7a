import { RECALL_QUERY_MAX_CHARS, toRecallQuery, toReviewRecallQuery } from './recall-query.js';

describe('toRecallQuery', () => {
  it('keeps a short goal, with its whitespace collapsed', () => {
    expect(toRecallQuery('  Add a\n\nmultiply   function ')).toBe('Add a multiply function');
  });

  it('cuts a long goal on a word boundary, within the limit', () => {
    const goal = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ');
    const query = toRecallQuery(goal);
    expect(query.length).toBeLessThanOrEqual(RECALL_QUERY_MAX_CHARS);
    expect(query.length).toBeGreaterThan(RECALL_QUERY_MAX_CHARS * 0.8);
    expect(goal.startsWith(`${query} `)).toBe(true);
  });

  it('keeps the whole last word when the limit falls just after it', () => {
    expect(toRecallQuery('abcd efgh ijkl', 9)).toBe('abcd efgh');
    expect(toRecallQuery('abcd efgh ijkl', 11)).toBe('abcd efgh');
  });

  it('cuts mid-word when the opening is one long word', () => {
    expect(toRecallQuery(`${'x'.repeat(50)} tail`, 10)).toBe('x'.repeat(10));
  });

  it('never splits a surrogate pair', () => {
    const query = toRecallQuery('😀'.repeat(10), 5);
    expect(query).toBe('😀😀');
    expect(query).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('toReviewRecallQuery', () => {
  it('is the goal and the subtask titles', () => {
    expect(toReviewRecallQuery('Add divide()', ['Create src/divide.js', 'Document it'])).toBe('Add divide() Create src/divide.js Document it');
  });

  it('leaves the titles room after a long goal, within the limit', () => {
    const goal = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ');
    const query = toReviewRecallQuery(goal, ['Create src/divide.js']);
    expect(query.length).toBeLessThanOrEqual(RECALL_QUERY_MAX_CHARS);
    expect(query.endsWith(' Create src/divide.js')).toBe(true);
  });
});
