/**
 * The text an embedder sees for a memory: unchanged within the bound, and a long memory's
 * opening (cut on a word boundary, tags kept) beyond it.
 */
import { EMBEDDING_TEXT_MAX_CHARS, MemoryLimits, embeddingText } from './memory.js';

describe('embeddingText', () => {
  it('is the content, then the tags, when it fits', () => {
    expect(embeddingText({ content: 'Use pnpm.', tags: [] })).toBe('Use pnpm.');
    expect(embeddingText({ content: 'Use pnpm.', tags: ['tooling', 'node'] })).toBe('Use pnpm.\ntooling node');
    const exact = 'x'.repeat(EMBEDDING_TEXT_MAX_CHARS);
    expect(embeddingText({ content: exact, tags: [] })).toBe(exact);
  });

  it('keeps the opening of a long memory, cut on a word boundary, and its tags whole', () => {
    const content = 'Configure the retryPolicy first. ' + 'word '.repeat(MemoryLimits.maxContentLength / 5);
    const text = embeddingText({ content, tags: ['http', 'payments'] });
    expect(text.length).toBeLessThanOrEqual(EMBEDDING_TEXT_MAX_CHARS);
    expect(text.length).toBeGreaterThan(EMBEDDING_TEXT_MAX_CHARS * 0.9);
    expect(text.startsWith('Configure the retryPolicy first. word word')).toBe(true);
    expect(text.endsWith('word\nhttp payments')).toBe(true);
  });

  it('cuts mid-word only when one word fills the room, never through a surrogate pair', () => {
    const long = 'a'.repeat(EMBEDDING_TEXT_MAX_CHARS * 2);
    expect(embeddingText({ content: long, tags: [] })).toBe('a'.repeat(EMBEDDING_TEXT_MAX_CHARS));
    // An emoji (two UTF-16 units) straddling the cut is left out whole.
    const emoji = 'a'.repeat(EMBEDDING_TEXT_MAX_CHARS - 1) + '😀' + 'b'.repeat(10);
    const text = embeddingText({ content: emoji, tags: [] });
    expect(text).toBe('a'.repeat(EMBEDDING_TEXT_MAX_CHARS - 1));
    expect(text.length).toBe(EMBEDDING_TEXT_MAX_CHARS - 1);
  });
});
