/**
 * The local deterministic embedder: a lexical-overlap vector computed from the text alone, with
 * no model, no network and no state. It is what memory uses by default (`local`), offline and in
 * tests.
 *
 * What it is: lower-cased word tokens (camelCase and snake_case split too), a light
 * suffix-stripping stemmer, word unigrams and bigrams plus character trigrams of each word,
 * signed feature hashing (FNV-1a 32-bit) into `dimensions` buckets, sublinear term frequency
 * (1 + ln tf), L2-normalised. Texts that share words, word pieces (`retryPolicy` ~ `retry
 * policy`) or near spellings (`timeout` ~ `timeouts` ~ `timout`) come out close; word order
 * barely matters; the same text gives the same vector on every run and machine.
 *
 * What it is not: semantic. It knows no synonyms (`car` and `automobile` are unrelated to it),
 * no paraphrase, no language. Use a model embedder (`openai:<model>`, `gemini:<model>`) when
 * meaning matters.
 */
import { invalidField } from '@maestro/runtime';
import type { EmbedOptions, Embedder } from './embedder.js';

/** Options of {@link LocalHashEmbedder}. */
export interface LocalHashEmbedderOptions {
  /**
   * Length of every vector. More buckets mean fewer hash collisions between unrelated features.
   * @default 384
   */
  dimensions?: number;
}

/** Defaults of {@link LocalHashEmbedderOptions}. */
export const LOCAL_HASH_EMBEDDER_DEFAULTS = { dimensions: 384 } as const;

/** Bounds on `dimensions`: below 16 nearly everything collides; above 8192 is waste for a hash. */
const MIN_DIMENSIONS = 16;
const MAX_DIMENSIONS = 8192;

/**
 * Feature weights by kind (the feature's prefix): whole words carry the most, then word pairs
 * (a little order), then trigrams (near spellings and word pieces; many per word, so each
 * counts for less).
 */
const WEIGHTS: Readonly<Record<string, number>> = { w: 1, b: 0.5, c: 0.35 };

/** Deterministic lexical embedder; see the module doc for what it is and what it is not. */
export class LocalHashEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly local = true;

  constructor(options: LocalHashEmbedderOptions = {}) {
    const dimensions = options.dimensions ?? LOCAL_HASH_EMBEDDER_DEFAULTS.dimensions;
    if (!Number.isInteger(dimensions) || dimensions < MIN_DIMENSIONS || dimensions > MAX_DIMENSIONS) {
      throw invalidField(
        'dimensions',
        `must be an integer from ${MIN_DIMENSIONS} to ${MAX_DIMENSIONS}, got ${String(dimensions)}`,
      );
    }
    this.dimensions = dimensions;
    this.id = `local:hash-v1:${dimensions}`;
  }

  /** Synchronous core of {@link embed}: one vector for one text. */
  embedOne(text: string): number[] {
    return hashFeatures(extractFeatures(text), this.dimensions);
  }

  /**
   * One vector per text. A text with nothing to hash (empty or whitespace only) gets the
   * all-zero vector, which is similar to nothing (its dot product with every vector is 0);
   * callers that use a cosine operator which divides by the norm must skip it.
   */
  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    options.signal?.throwIfAborted();
    return texts.map((text) => this.embedOne(text));
  }
}

/** Lower-cased word tokens: letters and digits, split at camelCase humps, `_`, `-` and punctuation. */
export function tokenize(text: string): string[] {
  const spaced = text
    .normalize('NFKC')
    // fooBar → foo Bar; HTTPServer → HTTP Server; v2Api → v2 Api
    .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2');
  return (spaced.match(/[\p{L}\p{N}]+/gu) ?? []).map((word) => word.toLowerCase());
}

/**
 * A light suffix stripper (a small subset of Porter step 1): plurals, `-ing`, `-ed`, `-ly`.
 * It only has to map a word's common forms to one key; an odd stem costs nothing as long as it
 * is the same for every form. Short words and numbers are left alone.
 */
export function stem(word: string): string {
  if (word.length <= 3 || /^\p{N}+$/u.test(word)) return word;
  const strip = (suffix: string, replacement = ''): string | undefined =>
    word.endsWith(suffix) && word.length - suffix.length >= 3
      ? word.slice(0, word.length - suffix.length) + replacement
      : undefined;
  const undouble = (base: string): string => (/([^aeiouls])\1$/.test(base) ? base.slice(0, -1) : base);
  return (
    strip('sses', 'ss') ??
    strip('ies', 'y') ??
    (word.endsWith('ss') || word.endsWith('us') || word.endsWith('is') ? word : undefined) ??
    strip('s') ??
    mapDefined(strip('ing'), undouble) ??
    mapDefined(strip('ed'), undouble) ??
    strip('ly') ??
    word
  );
}

function mapDefined<T, R>(value: T | undefined, map: (value: T) => R): R | undefined {
  return value === undefined ? undefined : map(value);
}

/** Feature counts of a text: `w:` word unigrams, `b:` bigrams, `c:` character trigrams. */
export function extractFeatures(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (feature: string): void => {
    counts.set(feature, (counts.get(feature) ?? 0) + 1);
  };
  const words = tokenize(text).map(stem);
  words.forEach((word, i) => {
    add(`w:${word}`);
    const next = words[i + 1];
    if (next !== undefined) add(`b:${word} ${next}`);
    for (const gram of trigrams(word)) add(`c:${gram}`);
  });
  if (words.length === 0) {
    // Symbols only (`=>`, `!=`): still something to compare, from the raw characters.
    for (const gram of trigrams(text.replace(/\s+/gu, ''))) add(`c:${gram}`);
  }
  return counts;
}

/** Character trigrams of `#word#` (the marks make starts and ends of words count). */
function trigrams(word: string): string[] {
  if (word === '') return [];
  const chars = [...`#${word}#`];
  const grams: string[] = [];
  for (let i = 0; i + 3 <= chars.length; i += 1) grams.push(chars.slice(i, i + 3).join(''));
  return grams;
}

/**
 * Signed feature hashing: each feature adds `±weight·(1 + ln tf)` (sublinear term frequency:
 * a word said five times is not five times the topic) to one bucket, the sign from an
 * independent bit so collisions cancel on average instead of piling up; then L2 normalisation
 * (the all-zero vector stays zero).
 */
function hashFeatures(features: ReadonlyMap<string, number>, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const [feature, count] of features) {
    const hash = fnv1a32(feature);
    const bucket = hash % dimensions;
    const sign = (mix32(hash) & 1) === 0 ? 1 : -1;
    const weight = WEIGHTS[feature.slice(0, 1)] ?? 1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * weight * (1 + Math.log(count));
  }
  let sumOfSquares = 0;
  for (const value of vector) sumOfSquares += value * value;
  const norm = Math.sqrt(sumOfSquares);
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

const utf8 = new TextEncoder();

/** FNV-1a, 32-bit, over the UTF-8 bytes: fixed, so vectors are stable across runs and machines. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's 32-bit finaliser: decorrelates the sign bit from the bucket index. */
function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
