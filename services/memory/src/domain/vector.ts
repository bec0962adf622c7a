/**
 * Vectors as memory keeps them: one space per embedder id, every vector in a space of the
 * space's dimension, values held at float4 precision (what pgvector stores) on both search
 * paths, and similarities rounded before ranking so the two paths rank alike.
 */
import { invalidField } from '@maestro/runtime';

/**
 * Decimals a cosine similarity is rounded to before ranking. pgvector sums in float4 and the
 * exact scan in float8: their cosines of the same vectors differ around the 6th decimal, so
 * ranking on 4 decimals (ties to the newer memory) gives both paths one order.
 */
export const SIMILARITY_DECIMALS = 4;

/** Checks that `vector` has `dimensions` finite numbers; names `field` otherwise. */
export function checkVector(vector: readonly number[], dimensions: number, field = 'embedding'): void {
  if (vector.length !== dimensions) {
    throw invalidField(field, `must have ${dimensions} dimensions (the embedding space's), got ${vector.length}`);
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i])) throw invalidField(`${field}[${i}]`, `must be a finite number, got ${String(vector[i])}`);
  }
}

/** True for the all-zero vector, which is similar to nothing (its cosine is undefined). */
export function isZeroVector(vector: readonly number[]): boolean {
  return vector.every((x) => x === 0);
}

/** The vector at float4 precision, as pgvector stores it, so the exact scan sees the same numbers. */
export function toStoredVector(vector: readonly number[]): number[] {
  return vector.map((x) => Math.fround(x));
}

/** pgvector's text form: `[0.1,0.2,…]`. */
export function toVectorLiteral(vector: readonly number[]): string {
  return `[${vector.join(',')}]`;
}
