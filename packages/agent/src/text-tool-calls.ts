/**
 * Tool calls written as text: models (or endpoints) without native tool calling write them as
 * JSON in the reply. This finds them, repairs malformed JSON, and says precisely what is wrong
 * when a call cannot be read, so the loop can run them like native calls.
 */
import { closesFence, parseFenceOpening, type FenceOpening } from './edits/fence-line.js';
import { JsonRepairError } from './json-repair/json-repair-error.js';
import { repairJson } from './json-repair/repair-json.js';

/** A tool call found in a reply's text (no id: the loop gives it one). */
export interface TextToolCall {
  /** The tool name as written (`fs.read`, or a provider spelling such as `fs_read`). */
  name: string;
  /** The arguments as JSON text: re-serialised from an object, or the string the model wrote. */
  argumentsJson: string;
  /** True when the JSON around the call had to be repaired to be read. */
  repaired: boolean;
}

/** What {@link extractTextToolCalls} found: the calls in reply order, or a message for the model. */
export type TextToolCalls = { ok: true; calls: TextToolCall[] } | { ok: false; message: string };

/** Options of {@link extractTextToolCalls}. */
export interface ExtractTextToolCallsOptions {
  /**
   * Fenced block contents that are something else (a whole-file edit of a `.json` file) and
   * must not be read as calls, even when they look like one.
   */
  ignoreBlocks?: readonly string[];
}

/** Fence languages a JSON tool call may be written in (empty: no language). */
const CALL_FENCE_LANGUAGES = new Set(['', 'json', 'json5', 'jsonc', 'tool', 'tool_call', 'tool_code', 'function_call']);
const NAME_KEYS = ['tool', 'name'] as const;
const ARGUMENT_KEYS = ['arguments', 'parameters', 'args', 'input'] as const;
const CALL_KEYS = new Set<string>([...NAME_KEYS, ...ARGUMENT_KEYS, 'id', 'type']);
/** A name key and an arguments key, or an OpenAI-style `function` object: worth a message when broken. */
const LOOKS_LIKE_CALL = [/["'`]?\b(?:tool|name)\b["'`]?\s*:/, /["'`]?\b(?:arguments|parameters|args|input)\b["'`]?\s*:|["'`]?\bfunction\b["'`]?\s*:\s*\{/] as const;

/** The preferred shape of a tool call written as text, used by the messages and the default system prompt so both teach the same thing. */
export const TEXT_TOOL_CALL_EXAMPLE = '{"tool": "fs.read", "arguments": {"path": "src/app.ts"}}';

/**
 * The message for a tool call that could not be read: where (` (line 3)`, or empty), why, that
 * nothing from the reply ran, and how to send it again. One wording for a JSON call in the text
 * and for a native call the provider could not parse, so the model is taught one thing.
 */
export function unreadableToolCallMessage(where: string, why: string): string {
  return (
    `Could not read the tool call in your reply${where}: ${why}\n` +
    `Nothing from this reply was run or applied. Send the call again as one JSON object, e.g. ${TEXT_TOOL_CALL_EXAMPLE}, or use native tool calls.`
  );
}

interface Candidate {
  /** Offset of the candidate in the reply, for ordering. */
  offset: number;
  /** 1-based line of the reply where it starts, for messages. */
  line: number;
  text: string;
  /** Bare JSON in prose is only taken when it looks like a call; fenced or tagged JSON is always tried. */
  bare: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function looksLikeCall(text: string): boolean {
  return LOOKS_LIKE_CALL.every((re) => re.test(text));
}

/**
 * One accepted shape, normalised, or undefined when `value` is some other JSON (a config
 * example, a schema): only objects whose keys are all call keys count, so file contents are
 * not mistaken for calls.
 */
function toCall(value: unknown, repaired: boolean): TextToolCall | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  const type = value.type;
  if (type !== undefined && type !== 'function' && type !== 'tool_use' && type !== 'tool_call') return undefined;
  if (isPlainObject(value.function)) {
    // OpenAI's wire shape: {"type": "function", "function": {"name": …, "arguments": "…"}}.
    if (keys.some((k) => k !== 'function' && k !== 'type' && k !== 'id')) return undefined;
    return toCall(value.function, repaired);
  }
  if (keys.some((k) => !CALL_KEYS.has(k))) return undefined;
  const names = NAME_KEYS.filter((k) => k in value);
  const argumentKeys = ARGUMENT_KEYS.filter((k) => k in value);
  if (names.length !== 1 || argumentKeys.length > 1) return undefined;
  const nameKey = names[0] as (typeof NAME_KEYS)[number];
  const name = value[nameKey];
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  // {"name": "x"} alone is too common in ordinary JSON; with "tool" the intent is plain.
  if (nameKey === 'name' && argumentKeys.length === 0) return undefined;
  const args = argumentKeys.length === 0 ? {} : value[argumentKeys[0] as (typeof ARGUMENT_KEYS)[number]];
  return { name: name.trim(), argumentsJson: typeof args === 'string' ? args : JSON.stringify(args ?? {}), repaired };
}

/** `line 3, column 7` of `text` at `position`, with the line and a caret. */
function locate(text: string, position: number): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  const newline = text.indexOf('\n', position);
  const lineText = text.slice(lineStart, newline === -1 ? text.length : newline);
  const lineNumber = text.slice(0, lineStart).split('\n').length;
  const column = position - lineStart + 1;
  const from = Math.max(0, column - 1 - 40);
  const shown = `${from > 0 ? '…' : ''}${lineText.slice(from, column - 1 + 40)}`.replace(/[\t\r]/g, ' ');
  return `at line ${lineNumber}, column ${column} of the call:\n  ${shown}\n  ${' '.repeat(column - 1 - from + (from > 0 ? 1 : 0))}^`;
}

function parse(text: string): { ok: true; value: unknown; repaired: boolean } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown, repaired: false };
  } catch {
    // Not strict JSON: repair below.
  }
  try {
    return { ok: true, value: JSON.parse(repairJson(text)) as unknown, repaired: true };
  } catch (err) {
    if (err instanceof JsonRepairError) return { ok: false, message: `${err.problem} ${locate(text, err.position)}` };
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** End offset (exclusive) of the JSON value starting at `start` (a `{` or `[`): brackets balanced outside strings; the text's end when never balanced. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      else if (ch === '\n' && quote !== '`') quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

/** Candidates: `<tool_call>` tags, JSON-looking fenced blocks, and bare JSON objects starting a line outside both. */
function findCandidates(reply: string, ignore: ReadonlySet<string>): Candidate[] {
  const candidates: Candidate[] = [];
  const lines = reply.split('\n');
  const offsets: number[] = [];
  let offset = 0;
  for (const line of lines) {
    offsets.push(offset);
    offset += line.length + 1;
  }
  const lineOf = (at: number): number => {
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((offsets[mid] ?? 0) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  // Regions already taken (fences, tags, SEARCH/REPLACE blocks): no bare JSON is looked for there.
  const taken: Array<[number, number]> = [];
  for (const match of reply.matchAll(/<(tool_call|function_call)>([\s\S]*?)(?:<\/\1>|$)/g)) {
    const start = match.index ?? 0;
    candidates.push({ offset: start, line: lineOf(start), text: (match[2] ?? '').trim(), bare: false });
    taken.push([start, start + match[0].length]);
  }
  // A fence inside a tag is part of the tag's call (the repairer drops the fence), not a second one.
  const tags = [...taken];
  const inTag = (at: number): boolean => tags.some(([from, to]) => at >= from && at < to);
  const fenced = (opening: FenceOpening, body: string, start: number, line: number): void => {
    const language = opening.info.split(/\s+/)[0]?.toLowerCase() ?? '';
    if (CALL_FENCE_LANGUAGES.has(language) && /^\s*[[{]/.test(body) && !ignore.has(body.trim()) && !inTag(start)) {
      candidates.push({ offset: start, line, text: body.trim(), bare: false });
    }
  };
  let open: { opening: FenceOpening; line: number } | undefined;
  let searchReplaceFrom: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const at = offsets[i] ?? 0;
    if (open !== undefined) {
      if (!closesFence(line, open.opening)) continue;
      const body = lines.slice(open.line + 1, i).join('\n');
      const start = offsets[open.line] ?? 0;
      taken.push([start, at + line.length]);
      fenced(open.opening, body, start, open.line + 2);
      open = undefined;
      continue;
    }
    if (/^<{5,9} SEARCH/.test(line)) searchReplaceFrom = at;
    if (/^>{5,9} REPLACE/.test(line) && searchReplaceFrom !== undefined) {
      taken.push([searchReplaceFrom, at + line.length]);
      searchReplaceFrom = undefined;
    }
    const opening = parseFenceOpening(line, { indented: true });
    if (opening !== undefined && !opening.marker.startsWith('<')) open = { opening, line: i };
  }
  // An unclosed fence runs to the end of the reply (a reply cut off by the output limit).
  if (open !== undefined) {
    const start = offsets[open.line] ?? 0;
    taken.push([start, reply.length]);
    fenced(open.opening, lines.slice(open.line + 1).join('\n'), start, open.line + 2);
  }
  if (searchReplaceFrom !== undefined) taken.push([searchReplaceFrom, reply.length]);

  const isTaken = (at: number): boolean => taken.some(([from, to]) => at >= from && at < to);
  for (let i = 0; i < lines.length; i++) {
    const at = offsets[i] ?? 0;
    const line = lines[i] ?? '';
    const indent = line.length - line.trimStart().length;
    const start = at + indent;
    if (!/^\s*(\{|\[\s*\{)/.test(line) || isTaken(start)) continue;
    const end = balancedEnd(reply, start);
    const text = reply.slice(start, end);
    candidates.push({ offset: start, line: i + 1, text, bare: true });
    taken.push([start, end]);
    // Skip the lines the object spans.
    while (i + 1 < lines.length && (offsets[i + 1] ?? 0) < end) i++;
  }
  return candidates.sort((a, b) => a.offset - b.offset);
}

/**
 * Finds the tool calls a model wrote as JSON text instead of native tool calls. Accepted
 * shapes (one object, or an array of them):
 * - `{"tool": "fs.read", "arguments": {...}}`
 * - `{"name": "fs.read", "arguments": {...}}` (`parameters`, `args` or `input` also name the arguments)
 * - `{"type": "function", "function": {"name": "fs_read", "arguments": "{...}"}}` (OpenAI's wire shape)
 * where the arguments may be an object or a JSON string; written in a fenced block (```` ```json ````,
 * ```` ```tool_call ````, or no language), between `<tool_call>` and `</tool_call>` tags, or bare at
 * the start of a line. Malformed JSON is repaired (trailing commas, single quotes, missing
 * brackets …). JSON of any other shape is not a call and is left alone. When something that
 * looks like a call (a name key and an arguments key) cannot be read even after repair, the
 * answer is a message for the model naming the line and what is wrong. Never throws.
 *
 * @example
 * extractTextToolCalls('```json\n{"tool": "fs.read", "arguments": {"path": "a.ts"},}\n```');
 * // { ok: true, calls: [{ name: 'fs.read', argumentsJson: '{"path":"a.ts"}', repaired: true }] }
 */
export function extractTextToolCalls(reply: string, options: ExtractTextToolCallsOptions = {}): TextToolCalls {
  const ignore = new Set((options.ignoreBlocks ?? []).map((block) => block.trim()));
  const calls: TextToolCall[] = [];
  for (const candidate of findCandidates(reply, ignore)) {
    if (candidate.bare && !looksLikeCall(candidate.text)) continue;
    const parsed = parse(candidate.text);
    if (!parsed.ok) {
      if (!looksLikeCall(candidate.text)) continue;
      return { ok: false, message: unreadableToolCallMessage(` (line ${candidate.line})`, `it is not valid JSON even after repair: ${parsed.message}`) };
    }
    const values = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    const found = values.map((value) => toCall(value, parsed.repaired));
    if (values.length === 0 || found.some((call) => call === undefined)) continue;
    calls.push(...(found as TextToolCall[]));
  }
  return { ok: true, calls };
}
