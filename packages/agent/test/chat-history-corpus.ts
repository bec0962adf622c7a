/**
 * Reads the chat-history golden corpus (`shared/corpora/edits/chat-history.md` and
 * `chat-history-search-replace-gold.txt`, from Aider's test fixtures) and compares what our
 * SEARCH/REPLACE parser extracts from each reply with the gold file.
 *
 * How the gold file was made (and so how the replies are cut out of the history): the history is
 * split before every `####` followed by whitespace; a section's first line is its header (the
 * user's message line), the rest is the text parsed; sections mentioning `editblock_coder.py` or
 * `test_editblock.py` are skipped. A section is written to the gold file when it yields blocks
 * (`@@@ SEARCH: <file>` … `@@@ REPLACE`, `@@@ SHELL` … `@@@ ENDSHELL`) or an error (the error
 * text, ending in a `^^^ Expected …` line).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSearchReplaceBlocks, type SearchReplaceBlock } from '../src/index.js';

const EDITS = join(__dirname, '../../../../shared/corpora/edits');
const AT20 = '@'.repeat(20);

/** A block as the gold file prints it. */
export type GoldBlock = { kind: 'search-replace'; path: string; search: string; replace: string } | { kind: 'shell'; script: string };

/** One reply's expected (or actual) outcome. */
export interface GoldEntry {
  header: string;
  /** The blocks, or the kind of error (the last `^^^` line of the gold text, or our error code). */
  outcome: { kind: 'blocks'; blocks: GoldBlock[] } | { kind: 'error'; error: string };
}

/** The gold file's entries, in order. */
export function readGold(): GoldEntry[] {
  const text = readFileSync(join(EDITS, 'chat-history-search-replace-gold.txt'), 'utf8');
  const lines = text.split('\n');
  const entries: GoldEntry[] = [];
  let i = 0;
  const headerOf = (line: string): string | undefined =>
    line.startsWith('@@@ #### ') && line.endsWith(` ${AT20}`) ? line.slice(4, -AT20.length - 1) : undefined;
  const collect = (until: (line: string) => boolean): string => {
    const body: string[] = [];
    while (i < lines.length && !until(lines[i] ?? '')) body.push(lines[i++] ?? '');
    i++;
    return body.map((l) => `${l}\n`).join('');
  };
  while (i < lines.length) {
    const header = headerOf(lines[i] ?? '');
    if (header === undefined) {
      i++;
      continue;
    }
    i++;
    const blocks: GoldBlock[] = [];
    const errorLines: string[] = [];
    while (i < lines.length && headerOf(lines[i] ?? '') === undefined) {
      const line = lines[i] ?? '';
      if (line.startsWith('@@@ SEARCH: ') && line.endsWith(` ${AT20}`)) {
        const path = line.slice('@@@ SEARCH: '.length, -AT20.length - 1);
        i++;
        const search = collect((l) => l === AT20);
        const replace = collect((l) => l === `@@@ REPLACE ${AT20}`);
        blocks.push({ kind: 'search-replace', path, search, replace });
      } else if (line === `@@@ SHELL ${AT20}`) {
        i++;
        blocks.push({ kind: 'shell', script: collect((l) => l === `@@@ ENDSHELL ${AT20}`) });
      } else {
        errorLines.push(line);
        i++;
      }
    }
    const caret = errorLines.filter((l) => l.startsWith('^^^ ')).pop();
    entries.push({
      header,
      outcome: caret !== undefined && blocks.length === 0 ? { kind: 'error', error: caret.slice(4) } : { kind: 'blocks', blocks },
    });
  }
  return entries;
}

/** The replies of the chat history, cut out the way the gold file was made. */
export function readSections(): { header: string; content: string }[] {
  const text = readFileSync(join(EDITS, 'chat-history.md'), 'utf8');
  const sections: { header: string; content: string }[] = [];
  for (const section of text.split(/(?=####\s)/)) {
    if (section.includes('editblock_coder.py') || section.includes('test_editblock.py')) continue;
    if (section.trim() === '') continue;
    const newline = section.indexOf('\n');
    const header = (newline === -1 ? section : section.slice(0, newline)).trim();
    const content = newline === -1 ? '' : section.slice(newline + 1);
    sections.push({ header, content });
  }
  return sections;
}

function toGold(block: SearchReplaceBlock): GoldBlock {
  return block.kind === 'shell'
    ? { kind: 'shell', script: block.script }
    : { kind: 'search-replace', path: block.path, search: block.search, replace: block.replace };
}

/** Our parser's entry for a section, or undefined when it finds nothing (the gold file has no entry then). */
export function parseSection(section: { header: string; content: string }): GoldEntry | undefined {
  const parsed = parseSearchReplaceBlocks(section.content);
  if (!parsed.ok) return { header: section.header, outcome: { kind: 'error', error: parsed.error.code } };
  if (parsed.value.length === 0) return undefined;
  return { header: section.header, outcome: { kind: 'blocks', blocks: parsed.value.map(toGold) } };
}

// The gold file words its errors as Aider does; ours have codes. Same failure = same code.
const GOLD_ERROR_CODES: [RegExp, string][] = [
  [/^Expected `>{5,9} REPLACE` or `={5,9}`/, 'missing-replace-marker'],
  [/^Expected `={5,9}`/, 'missing-divider'],
  [/filename/i, 'missing-filename'],
];

/** True when our entry says what the gold entry says: the same blocks, or the same kind of error. */
export function sameOutcome(gold: GoldEntry, ours: GoldEntry): boolean {
  if (gold.header !== ours.header) return false;
  if (gold.outcome.kind === 'error' || ours.outcome.kind === 'error') {
    if (gold.outcome.kind !== 'error' || ours.outcome.kind !== 'error') return false;
    const goldError = gold.outcome.error;
    const code = GOLD_ERROR_CODES.find(([pattern]) => pattern.test(goldError))?.[1];
    return code === ours.outcome.error;
  }
  return JSON.stringify(gold.outcome.blocks) === JSON.stringify(ours.outcome.blocks);
}

/** The result of comparing the whole corpus. */
export interface CorpusComparison {
  goldEntries: number;
  /** Gold entries our parser reproduced exactly. */
  matched: number;
  /** Gold entries we did not reproduce (missing or different), with what we produced nearby. */
  mismatches: { gold: GoldEntry; ours?: GoldEntry }[];
  /** Sections where we found blocks or an error but the gold file has nothing. */
  extra: GoldEntry[];
}

/**
 * Aligns our entries with the gold entries (longest common subsequence, equal = {@link sameOutcome})
 * — headers repeat, and a section we mis-parse must not shift every later comparison.
 */
export function compareWithGold(): CorpusComparison {
  const gold = readGold();
  const sections = readSections();
  const ours = sections.map(parseSection).filter((entry): entry is GoldEntry => entry !== undefined);
  const n = gold.length;
  const m = ours.length;
  const table: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let a = n - 1; a >= 0; a--) {
    const row = table[a] as Uint16Array;
    const below = table[a + 1] as Uint16Array;
    for (let b = m - 1; b >= 0; b--) {
      row[b] = sameOutcome(gold[a] as GoldEntry, ours[b] as GoldEntry)
        ? (below[b + 1] as number) + 1
        : Math.max(below[b] as number, row[b + 1] as number);
    }
  }
  const mismatches: CorpusComparison['mismatches'] = [];
  const extra: GoldEntry[] = [];
  let a = 0;
  let b = 0;
  let matched = 0;
  while (a < n && b < m) {
    const g = gold[a] as GoldEntry;
    const o = ours[b] as GoldEntry;
    if (sameOutcome(g, o)) {
      matched++;
      a++;
      b++;
    } else if ((table[a + 1] as Uint16Array)[b] === (table[a] as Uint16Array)[b]) {
      mismatches.push({ gold: g, ours: o.header === g.header ? o : undefined });
      a++;
    } else {
      extra.push(o);
      b++;
    }
  }
  for (; a < n; a++) mismatches.push({ gold: gold[a] as GoldEntry });
  for (; b < m; b++) extra.push(ours[b] as GoldEntry);
  return { goldEntries: n, matched, mismatches, extra };
}
