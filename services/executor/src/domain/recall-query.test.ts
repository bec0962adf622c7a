import { MemoryScopeLimits } from '@maestro/contracts';
import { RECALL_QUERY_MAX_CHARS, toRecallQuery, toRecallScopes } from './recall-query.js';

describe('toRecallQuery', () => {
  it('joins title, files and instructions on one line', () => {
    expect(toRecallQuery({ title: 'Add subtract()', files: ['math.js', 'math.test.js'], instructions: 'Export subtract(a, b)\n\nfrom math.js.' })).toBe(
      'Add subtract() — math.js math.test.js — Export subtract(a, b) from math.js.',
    );
    expect(toRecallQuery({ title: 'Fix it', files: [], instructions: '  ' })).toBe('Fix it');
    expect(toRecallQuery({ title: ' ', files: [], instructions: '' })).toBe('');
  });

  it("stays within memory's limit, cutting the instructions at a word and keeping title and files", () => {
    const instructions = 'word '.repeat(1_000);
    const query = toRecallQuery({ title: 'Add subtract()', files: ['math.js'], instructions });
    expect(query.length).toBeLessThanOrEqual(RECALL_QUERY_MAX_CHARS);
    expect(query.length).toBeGreaterThan(RECALL_QUERY_MAX_CHARS - 10);
    expect(query.startsWith('Add subtract() — math.js — word word')).toBe(true);
    expect(query.endsWith('word')).toBe(true);
  });

  it('cuts one long word mid-word, never splitting a surrogate pair', () => {
    expect(toRecallQuery({ title: 'x'.repeat(5_000), files: [], instructions: '' })).toBe('x'.repeat(RECALL_QUERY_MAX_CHARS));
    const query = toRecallQuery({ title: `${'a'.repeat(9)}😀😀`, files: [], instructions: '' }, 10);
    expect(query).toBe('a'.repeat(9));
  });
});

describe('toRecallScopes', () => {
  it("names the work item's user and team scopes, trimmed and each once; none when it has none", () => {
    expect(toRecallScopes([' team:platform', 'user:alice', 'team:platform '])).toEqual({ scopes: ['team:platform', 'user:alice'], dropped: [] });
    expect(toRecallScopes(undefined)).toEqual({ scopes: [], dropped: [] });
  });

  it('leaves out project (always recalled) quietly, and what memory would refuse, saying so', () => {
    expect(toRecallScopes(['project', 'user:alice', 'group:ops', 'team:'])).toEqual({ scopes: ['user:alice'], dropped: ['group:ops', 'team:'] });
  });

  it("sends no more than memory's limit on one recall", () => {
    const many = Array.from({ length: MemoryScopeLimits.maxRecallScopes + 2 }, (_, i) => `user:u${i}`);
    const { scopes, dropped } = toRecallScopes(many);
    expect(scopes).toEqual(many.slice(0, MemoryScopeLimits.maxRecallScopes));
    expect(dropped).toEqual(many.slice(MemoryScopeLimits.maxRecallScopes));
  });
});
