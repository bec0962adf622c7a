import { JsonRepairError } from './json-repair-error.js';
import { repairJson } from './repair-json.js';

/** The outcome of `parseToolArguments`: the arguments object, or a message for the model. */
export type ParsedToolArguments =
  | { ok: true; value: Record<string, unknown>; repaired: boolean }
  | { ok: false; message: string };

const HINT = 'Send the arguments as one JSON object, keys and strings in double quotes, e.g. {"name": "value"}.';
/** How much of a long line the excerpt shows on each side of the problem. */
const EXCERPT_RADIUS = 40;

/**
 * Parses a model's tool-call arguments: strict `JSON.parse` first, `repairJson` second (then
 * `repaired: true`), and a JSON string that holds an object (arguments encoded twice) is
 * unwrapped. Empty arguments mean `{}`, as for a tool without parameters. When no object comes
 * out, `message` tells the model what was wrong and where, with the line and a caret, so its
 * next attempt can fix exactly that. Never throws.
 *
 * @example
 * parseToolArguments('{"path": "a.ts",}');  // { ok: true, value: { path: 'a.ts' }, repaired: true }
 * parseToolArguments('{"path" ]');          // { ok: false, message: 'the arguments are not valid JSON: Colon expected at line 1, column 9 …' }
 */
export function parseToolArguments(raw: string): ParsedToolArguments {
  if (raw.trim() === '') return { ok: true, value: {}, repaired: false };
  const parsed = parseOrRepair(raw);
  if (!parsed.ok) return parsed;
  let { value, repaired } = parsed;
  if (typeof value === 'string' && /^\s*[{[]/.test(value)) {
    const inner = parseOrRepair(value);
    if (inner.ok && isPlainObject(inner.value)) {
      value = inner.value;
      repaired = true;
    }
  }
  if (!isPlainObject(value)) {
    return {
      ok: false,
      message:
        `the arguments must be a JSON object with the tool's parameters as keys, got ${describe(value)}` +
        `${repaired ? ' (after repairing the JSON)' : ''}. ${HINT}`,
    };
  }
  return { ok: true, value, repaired };
}

function parseOrRepair(text: string): { ok: true; value: unknown; repaired: boolean } | { ok: false; message: string } {
  let strictError: unknown;
  try {
    return { ok: true, value: JSON.parse(text) as unknown, repaired: false };
  } catch (err) {
    strictError = err;
  }
  try {
    return { ok: true, value: JSON.parse(repairJson(text)) as unknown, repaired: true };
  } catch (err) {
    if (err instanceof JsonRepairError) {
      return { ok: false, message: `the arguments are not valid JSON: ${err.problem} ${locate(text, err.position)}\n${HINT}` };
    }
    // The repairer wrote something JSON.parse refuses (a bug); the strict parser's words are the best we have.
    const reason = strictError instanceof Error ? strictError.message : String(strictError);
    return { ok: false, message: `the arguments are not valid JSON (${reason}). ${HINT}` };
  }
}

/** `at line 3, column 7:` followed by that line (cut to a window) and a caret under the spot. */
function locate(text: string, position: number): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  const newline = text.indexOf('\n', position);
  const lineEnd = newline === -1 ? text.length : newline;
  const lineNumber = text.slice(0, lineStart).split('\n').length;
  const column = position - lineStart + 1;
  if (position >= text.length && text.trim() === '') return `at line ${lineNumber}, column ${column} (the arguments are empty)`;
  const from = Math.max(lineStart, position - EXCERPT_RADIUS);
  const to = Math.min(lineEnd, position + EXCERPT_RADIUS);
  const prefix = from > lineStart ? '…' : '';
  const suffix = to < lineEnd ? '…' : '';
  // Tabs and carriage returns would shift the caret; show them as single spaces.
  const shown = `${prefix}${text.slice(from, to)}${suffix}`.replace(/[\t\r]/g, ' ');
  const caret = `${' '.repeat(prefix.length + position - from)}^${position >= text.length ? ' (end of the arguments)' : ''}`;
  return `at line ${lineNumber}, column ${column}:\n  ${shown}\n  ${caret}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  const shown = JSON.stringify(value);
  const excerpt = shown.length > 60 ? `${shown.slice(0, 60)}…` : shown;
  return `${typeof value === 'string' ? 'a string' : `a ${typeof value}`} (${excerpt})`;
}
