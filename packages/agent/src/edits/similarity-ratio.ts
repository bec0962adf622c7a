/**
 * String similarity for picking the file a model meant by a slightly wrong name.
 */

/**
 * Ratcliff/Obershelp similarity in [0, 1]: twice the number of characters in common blocks
 * (longest common substring first, then recursively left and right of it) over the total length.
 * Quadratic in the lengths, so meant for short strings such as file names.
 *
 * @example
 * similarityRatio('file1_py', 'file1.py'); // 0.875
 */
export function similarityRatio(a: string, b: string): number {
  const total = a.length + b.length;
  if (total === 0) return 1;
  return (2 * matchingCharacters(a, 0, a.length, b, 0, b.length)) / total;
}

function matchingCharacters(a: string, aLo: number, aHi: number, b: string, bLo: number, bHi: number): number {
  if (aLo >= aHi || bLo >= bHi) return 0;
  // Longest common substring by dynamic programming over one row; ties go to the earliest in `a`.
  let bestLength = 0;
  let bestA = aLo;
  let bestB = bLo;
  let previous = new Array<number>(bHi - bLo + 1).fill(0);
  for (let i = aLo; i < aHi; i++) {
    const current = new Array<number>(bHi - bLo + 1).fill(0);
    for (let j = bLo; j < bHi; j++) {
      if (a[i] === b[j]) {
        const length = (previous[j - bLo] ?? 0) + 1;
        current[j - bLo + 1] = length;
        if (length > bestLength) {
          bestLength = length;
          bestA = i - length + 1;
          bestB = j - length + 1;
        }
      }
    }
    previous = current;
  }
  if (bestLength === 0) return 0;
  return (
    bestLength +
    matchingCharacters(a, aLo, bestA, b, bLo, bestB) +
    matchingCharacters(a, bestA + bestLength, aHi, b, bestB + bestLength, bHi)
  );
}

/** The candidate most similar to `word` with a ratio of at least `cutoff`, or undefined. */
export function closestMatch(word: string, candidates: readonly string[], cutoff = 0.8): string | undefined {
  let best: string | undefined;
  let bestScore = cutoff;
  for (const candidate of candidates) {
    const score = similarityRatio(word, candidate);
    if (score > bestScore || (score === bestScore && best === undefined)) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
