/**
 * The local deterministic embedder: same text → same vector (pinned by a golden prefix, so a
 * change to tokenising or hashing, which would silently invalidate every stored vector, fails
 * here), unit length, lexical neighbours closer than unrelated texts, empty text.
 */
import { UserError } from '@maestro/runtime';
import { LocalHashEmbedder } from '../src/index.js';
import { fnv1a32, stem, tokenize } from '../src/embeddings/local-hash-embedder.js';

const dot = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);
const norm = (a: readonly number[]): number => Math.sqrt(dot(a, a));

describe('LocalHashEmbedder', () => {
  const embedder = new LocalHashEmbedder();

  it('names its space and defaults to 384 dimensions', () => {
    expect(embedder.id).toBe('local:hash-v1:384');
    expect(embedder.dimensions).toBe(384);
    expect(embedder.local).toBe(true);
    expect(new LocalHashEmbedder({ dimensions: 64 }).id).toBe('local:hash-v1:64');
  });

  it('gives the same vector for the same text, across instances and calls', async () => {
    const text = 'In this repo, tests need TZ=UTC';
    const [a] = await embedder.embed([text]);
    const [b] = await new LocalHashEmbedder().embed([text, 'other']);
    expect(a).toEqual(b);
    expect(a).toHaveLength(384);
  });

  it('is pinned: the vector of a fixed text does not change between versions', () => {
    // If this fails, the hashing changed: bump the id (hash-v2) so stored vectors are re-embedded.
    const vector = new LocalHashEmbedder({ dimensions: 16 }).embedOne('retryPolicy uses backoff');
    expect(vector.map((v) => Number(v.toFixed(4)))).toEqual([
      0, -0.3279, -0.1093, -0.1093, 0.2655, -0.2655, 0.1093, 0, 0.1093, -0.1093, -0.1093, -0.1093,
      0.3592, -0.3279, 0.6246, -0.203,
    ]);
    // FNV-1a 32-bit reference values
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('returns unit-length vectors, in input order', async () => {
    const texts = ['use pnpm, never npm', 'x', 'the migration runs before the server starts', '=> !='];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const vector of vectors) expect(norm(vector)).toBeCloseTo(1, 10);
    expect(vectors[1]).toEqual(embedder.embedOne('x'));
  });

  it('puts texts that share words, word pieces or spellings closer than unrelated ones', () => {
    const v = (text: string): number[] => embedder.embedOne(text);
    const anchor = v('tests need TZ=UTC to pass in this repository');
    const similar = v('the repository tests fail unless TZ is UTC');
    const unrelated = v('the web dashboard shows a chart of monthly invoices');
    expect(dot(anchor, similar)).toBeGreaterThan(dot(anchor, unrelated) + 0.2);

    // camelCase / snake_case and plurals reach the same words
    const code = v('retryPolicy backoff_delay');
    expect(dot(code, v('retry policy with a backoff delay'))).toBeGreaterThan(dot(code, unrelated) + 0.3);
    // a misspelling still overlaps through trigrams
    expect(dot(v('timeout'), v('timout'))).toBeGreaterThan(dot(v('timeout'), v('invoice')) + 0.2);
    expect(dot(v('timeouts'), v('timeout'))).toBeGreaterThan(0.9);
  });

  it('knows no synonyms (it is lexical, not semantic)', () => {
    expect(dot(embedder.embedOne('car'), embedder.embedOne('automobile'))).toBeLessThan(0.2);
  });

  it('gives the all-zero vector for empty or blank text, similar to nothing', async () => {
    const [empty, blank] = await embedder.embed(['', '  \n\t ']);
    expect(empty).toEqual(new Array(384).fill(0));
    expect(blank).toEqual(empty);
    expect(await embedder.embed([])).toEqual([]);
  });

  it('rejects a dimension it cannot use, naming the field', () => {
    for (const dimensions of [0, 8, 1.5, 100_000]) {
      const attempt = (): LocalHashEmbedder => new LocalHashEmbedder({ dimensions });
      expect(attempt).toThrow(UserError);
      expect(attempt).toThrow(/dimensions/);
    }
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(embedder.embed(['x'], { signal: controller.signal })).rejects.toThrow();
  });
});

describe('tokenize and stem', () => {
  it('splits camelCase, snake_case and punctuation, lower-cased', () => {
    expect(tokenize('parseHTTPRequest snake_case_name kebab-case v2Api')).toEqual([
      'parse', 'http', 'request', 'snake', 'case', 'name', 'kebab', 'case', 'v2', 'api',
    ]);
  });

  it('maps common forms of a word to one stem', () => {
    expect(stem('tests')).toBe(stem('test'));
    expect(stem('policies')).toBe(stem('policy'));
    expect(stem('running')).toBe(stem('run'));
    expect(stem('failed')).toBe(stem('fail'));
    expect(stem('class')).toBe('class');
    expect(stem('status')).toBe('status');
  });
});
