/**
 * A recall query in web-search syntax (`"exact phrase"`, `or`, `-excluded`), split into what
 * each search needs: the full text for keyword search, the words alone (exclusions dropped) for
 * the any-word pass and for the embedder, and the exclusions, which hold for vector hits too
 * (a `-word` never comes back through the vector side).
 */

/** The parts of one query. */
export interface RecallQueryParts {
  /** The query as typed, for `websearch_to_tsquery`. */
  readonly text: string;
  /** The query without its `-excluded` terms, quotes and `or`: what the embedder sees. */
  readonly positive: string;
  /** Only the exclusions (`-redis -"lock manager"`), empty when there are none. */
  readonly exclusions: string;
}

// A leading minus at the start or after a space, then a quoted phrase or one word.
const exclusionPattern = /(^|\s)-("[^"]*"?|[^\s"]+)/g;

/** Splits a (validated, trimmed) query into its parts. */
export function parseRecallQuery(text: string): RecallQueryParts {
  const exclusions: string[] = [];
  const rest = text.replace(exclusionPattern, (_match, lead: string, term: string) => {
    exclusions.push(`-${term}`);
    return lead;
  });
  const positive = rest
    .replace(/"/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && word.toLowerCase() !== 'or')
    .join(' ');
  return { text, positive, exclusions: exclusions.join(' ') };
}
