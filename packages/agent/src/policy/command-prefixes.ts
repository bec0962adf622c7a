/**
 * Reads operator-configured command rules (`MAESTRO_COMMAND_ALLOW`, `MAESTRO_COMMAND_DENY`):
 * argv prefixes, either a JSON array of argv arrays (`[["make","lint"],["cargo","fmt"]]`) or a
 * comma-separated list whose entries are split on spaces (`make lint, cargo fmt`). A prefix
 * matches an argv whose leading elements equal it, the program compared by its basename; a
 * one-word prefix (`terraform`) therefore matches every use of that program.
 */
import type { CommandRule } from './command-rules.js';

/** Thrown when a configured prefix list cannot be read; `code` is `INVALID_COMMAND_PATTERN`. */
export class CommandPatternError extends Error {
  readonly code = 'INVALID_COMMAND_PATTERN' as const;
  constructor(message: string) {
    super(message);
    this.name = 'CommandPatternError';
  }
}

/** Parses a prefix list (JSON or comma-separated; empty = none). Throws {@link CommandPatternError}. */
export function parseCommandPrefixes(value: string): string[][] {
  const text = value.trim();
  if (text === '') return [];
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new CommandPatternError(`is not valid JSON (${(err as Error).message}); write an array of argv arrays, e.g. [["make","lint"]]`);
    }
    if (!Array.isArray(parsed)) throw new CommandPatternError('must be an array of argv arrays, e.g. [["make","lint"]]');
    return parsed.map((entry, i) => {
      if (!Array.isArray(entry) || entry.length === 0 || !entry.every((w) => typeof w === 'string' && w !== '')) {
        throw new CommandPatternError(`entry ${i} must be a non-empty array of non-empty strings, e.g. ["make","lint"]`);
      }
      return entry as string[];
    });
  }
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => entry.split(/\s+/));
}

/** Turns configured prefixes into rules, named after the variable they came from. */
export function toPrefixRules(prefixes: readonly (readonly string[])[], source: string): CommandRule[] {
  return prefixes.map((prefix) => ({ id: `${source}:${prefix.join(' ')}`, prefix, reason: `matches ${JSON.stringify(prefix)} configured in ${source}` }));
}
