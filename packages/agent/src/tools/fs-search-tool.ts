/**
 * `fs.search`: a regular expression over the workspace's files, `.gitignore` aware.
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { defineTool } from '../tool-registry.js';
import { listWorkspaceFiles } from '../workspace-files.js';
import { resolveWorkspacePath } from '../workspace-path.js';

/** Matches shown when the model does not say. */
const DEFAULT_MAX_RESULTS = 100;
/** Characters of a matching line shown; longer lines are cut around the match. */
const MAX_LINE_CHARS = 200;
/** Larger files are skipped (and counted): they are data or build output, not code to read. */
const MAX_FILE_BYTES = 1_000_000;
/** Files searched at most. */
const MAX_FILES = 50_000;
/** A search longer than this is stopped: the pattern backtracks badly or the tree is huge. */
const SEARCH_TIMEOUT_MS = 15_000;

/** One matching line. */
interface SearchMatch {
  path: string;
  line: number;
  text: string;
}

/** What the search worker reports. */
interface SearchOutcome {
  matches: SearchMatch[];
  total: number;
  files: number;
  searched: number;
  large: number;
  binary: number;
}

/**
 * The matching runs in a worker thread, so a pattern that backtracks catastrophically
 * (`(a+)+$`) can be stopped by terminating the thread instead of freezing the executor (and
 * its heartbeats). Plain JavaScript; an evaluated worker is a CommonJS script or an ES module
 * depending on the package it starts from, so it loads modules with `import()`, which both
 * have. Every listed path is confined again before it is read, because a listing (git's index
 * in particular) names paths, not what is on disk now: a tracked `sub/a.txt` whose `sub` was
 * replaced by a link to another directory must not be read through it. So the real path of the
 * file's directory must lie inside the workspace, the file itself must not be a link (`lstat`,
 * then `O_NOFOLLOW` on open), and where `/proc` shows it, the opened file's real path is checked
 * too, closing the gap between the check and the open.
 */
const WORKER_SOURCE = `
(async () => {
const { parentPort, workerData } = await import('node:worker_threads');
const { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync } = await import('node:fs');
const { dirname, join, sep } = await import('node:path');
const { root, files, source, flags, maxResults, maxLineChars, maxFileBytes } = workerData;
const inside = (p) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
// The bytes of a regular file confined to the workspace, 'large', or undefined (not there, a link, outside).
const readConfined = (rel) => {
  const abs = join(root, rel);
  let info;
  try {
    if (!inside(realpathSync(dirname(abs)))) return undefined;
    info = lstatSync(abs);
  } catch { return undefined; }
  if (!info.isFile()) return undefined;
  if (info.size > maxFileBytes) return 'large';
  let fd;
  try { fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW); } catch { return undefined; }
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile()) return undefined;
    if (opened.size > maxFileBytes) return 'large';
    let real;
    try { real = readlinkSync('/proc/self/fd/' + fd); } catch { real = undefined; }
    if (real !== undefined && !inside(real)) return undefined;
    return readFileSync(fd);
  } catch { return undefined; } finally { closeSync(fd); }
};
const re = new RegExp(source, flags);
const clip = (line, index, length) => {
  if (line.length <= maxLineChars) return line;
  const start = Math.max(0, Math.min(index - Math.floor((maxLineChars - Math.min(length, maxLineChars)) / 2), line.length - maxLineChars));
  const end = start + maxLineChars;
  return (start > 0 ? '…' : '') + line.slice(start, end) + (end < line.length ? '…' : '');
};
const out = { matches: [], total: 0, files: 0, searched: 0, large: 0, binary: 0 };
for (const rel of files) {
  const bytes = readConfined(rel);
  if (bytes === undefined) continue;
  if (bytes === 'large') { out.large++; continue; }
  if (bytes.subarray(0, 8192).includes(0)) { out.binary++; continue; }
  out.searched++;
  const lines = bytes.toString('utf8').split('\\n');
  let matched = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\\r') ? lines[i].slice(0, -1) : lines[i];
    const m = re.exec(line);
    if (m === null) continue;
    out.total++;
    matched = true;
    if (out.matches.length < maxResults) out.matches.push({ path: rel, line: i + 1, text: clip(line, m.index, m[0].length) });
  }
  if (matched) out.files++;
}
parentPort.postMessage(out);
})();
`;

function searchInWorker(
  data: { root: string; files: string[]; source: string; flags: string; maxResults: number },
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<SearchOutcome | 'timeout' | 'cancelled' | Error> {
  return new Promise((resolvePromise) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ...data, maxLineChars: MAX_LINE_CHARS, maxFileBytes: MAX_FILE_BYTES },
    });
    let settled = false;
    const settle = (result: SearchOutcome | 'timeout' | 'cancelled' | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      resolvePromise(result);
    };
    const timer = setTimeout(() => settle('timeout'), timeoutMs);
    const onAbort = (): void => settle('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (outcome: SearchOutcome) => settle(outcome));
    worker.once('error', (err) => settle(err));
    worker.once('exit', (code) => settle(new Error(`the search worker stopped (exit code ${code})`)));
  });
}

/**
 * Searches the workspace (or a directory or file of it) for a JavaScript regular expression,
 * line by line. In a git repository the files are `git ls-files -co --exclude-standard` (tracked
 * plus untracked, minus what `.gitignore` excludes); elsewhere the tree without `.git` and
 * `node_modules`. Binary files and files over 1 MB are skipped and counted, symbolic links are
 * not followed (neither a linked file nor a file under a linked directory is read), long lines are cut around the match, and the answer says how many matches were
 * left out. The matching runs in a worker thread stopped after 15 s (or the exec time left).
 */
export const fsSearchTool = defineTool({
  name: 'fs.search',
  description:
    'Search the files of the workspace for a regular expression (JavaScript syntax), line by line; .gitignore is respected. ' +
    'Answers "path:line: text" for each matching line. Optionally limit it to a directory or file with path.',
  risk: 'read',
  input: z
    .object({
      pattern: z.string().min(1).describe('regular expression, JavaScript syntax, matched against each line, e.g. "function\\\\s+sum\\\\b"'),
      path: z.string().min(1).default('.').describe('directory or file to search, relative to the workspace root'),
      ignoreCase: z.boolean().default(false).describe('match letters in either case'),
      maxResults: z.number().int().min(1).max(500).default(DEFAULT_MAX_RESULTS).describe('matching lines shown at most'),
    })
    .strict(),
  async run({ pattern, path, ignoreCase, maxResults }, { workspace, signal, env, execTimeoutMs }) {
    try {
      new RegExp(pattern, ignoreCase ? 'i' : '');
    } catch (err) {
      return { ok: false, output: `pattern is not a valid regular expression: ${(err as Error).message}` };
    }
    const target = resolveWorkspacePath(workspace, path);
    const info = await stat(target.absolute).catch(() => undefined);
    if (info === undefined) return { ok: false, output: `${target.relative} does not exist` };
    const relative = target.relative.split('\\').join('/');
    let files: string[];
    let listNote = '';
    if (info.isFile()) {
      files = [relative];
    } else {
      const listed = await listWorkspaceFiles(target.root, relative, { maxFiles: MAX_FILES, ...(signal ? { signal } : {}), ...(env ? { env } : {}) });
      files = listed.files;
      if (listed.truncated) listNote = `[only the first ${MAX_FILES} files were searched; search a subdirectory]`;
    }
    const timeoutMs = Math.min(SEARCH_TIMEOUT_MS, execTimeoutMs ?? SEARCH_TIMEOUT_MS);
    const outcome = await searchInWorker({ root: target.root, files, source: pattern, flags: ignoreCase ? 'i' : '', maxResults }, timeoutMs, signal);
    if (outcome === 'timeout') {
      return { ok: false, output: `fs.search stopped after ${timeoutMs} ms without finishing: simplify the pattern (nested quantifiers like (a+)+ backtrack badly) or search a smaller path` };
    }
    if (outcome === 'cancelled') return { ok: false, output: 'fs.search was cancelled' };
    if (outcome instanceof Error) return { ok: false, output: `fs.search failed: ${outcome.message}` };

    const shown = `/${pattern}/${ignoreCase ? 'i' : ''}`;
    const notes: string[] = [];
    if (outcome.total > outcome.matches.length) {
      notes.push(`[showing ${outcome.matches.length} of ${outcome.total} matching lines in ${outcome.files} files; ${outcome.total - outcome.matches.length} not shown — narrow the pattern or the path]`);
    }
    const skipped = [
      outcome.large > 0 ? `${outcome.large} file${outcome.large === 1 ? '' : 's'} over 1 MB` : '',
      outcome.binary > 0 ? `${outcome.binary} binary file${outcome.binary === 1 ? '' : 's'}` : '',
    ].filter((s) => s !== '');
    if (skipped.length > 0) notes.push(`[skipped ${skipped.join(' and ')}]`);
    if (listNote !== '') notes.push(listNote);
    if (outcome.matches.length === 0) {
      return { ok: true, output: [`no matches for ${shown} in ${target.relative} (${outcome.searched} file${outcome.searched === 1 ? '' : 's'} searched)`, ...notes].join('\n') };
    }
    return { ok: true, output: [...outcome.matches.map((m) => `${m.path}:${m.line}: ${m.text}`), ...notes].join('\n') };
  },
});
