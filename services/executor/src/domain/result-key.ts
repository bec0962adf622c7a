/**
 * Keys of the work-results KV bucket. Work ids are `${subtaskId}:${attempt}` and may hold any
 * character, while KV keys allow only `[-/=.\w]` and no leading or trailing dot.
 */

const SAFE = /[A-Za-z0-9\-/=]/;

/**
 * Encodes a work id as a KV key, injectively: safe characters stay readable, everything else
 * (including `_` itself and `.`, which KV treats as a token separator) becomes `_xx` per UTF-8 byte.
 *
 * @example
 * toResultKey('sub-1:2'); // 'sub-1_3a2'
 */
export function toResultKey(workId: string): string {
  if (workId.length === 0) throw new Error('toResultKey: work id must not be empty');
  let out = '';
  for (const ch of workId) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Decodes a key made by {@link toResultKey}; for operators listing the bucket. */
export function fromResultKey(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    if (ch === '_') {
      bytes.push(Number.parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
