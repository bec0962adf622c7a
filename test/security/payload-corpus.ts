/**
 * The path-traversal payload corpus, read in place from `../shared/corpora/safety/payloads/`
 * (next to the repository): one payload per line, `{FILE}` standing for the file the attacker
 * wants. Each file keeps its own name so a table row says which list a payload came from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where the corpus lives: `../shared` of the repository root. */
export const PAYLOAD_DIR = path.resolve(__dirname, '../../../shared/corpora/safety/payloads');

/** One corpus file: its name and its payloads (distinct, in file order, `{FILE}` replaced). */
export interface PayloadList {
  name: string;
  payloads: string[];
}

/**
 * Every list of the corpus with `{FILE}` replaced by `file` (the name of the sentinel planted
 * just outside the workspace, so `../{FILE}` aims at it). Lines are kept as they are but for
 * the line break; empty lines are dropped.
 */
export function loadPayloadLists(file: string): PayloadList[] {
  return readdirSync(PAYLOAD_DIR)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .map((name) => {
      const lines = readFileSync(path.join(PAYLOAD_DIR, name), 'utf8').split('\n').map((line) => line.replace(/\r$/, ''));
      return { name, payloads: [...new Set(lines.filter((line) => line !== '').map((line) => line.replaceAll('{FILE}', file)))] };
    });
}
