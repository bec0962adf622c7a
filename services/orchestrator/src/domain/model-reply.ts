/**
 * Helpers shared by the plan and review parsers: pull the JSON object out of a model's reply
 * (bare, or inside a ```json fence, or surrounded by prose) and describe zod issues and reply
 * text in a way a person reading a failed run can act on.
 */
import type { z } from 'zod';

/** Longest excerpt of a model reply quoted in an error message. */
export const QUOTE_LIMIT = 300;

/** The reply text, shortened and JSON-quoted so whitespace and fences stay visible. */
export function quoteReply(text: string, limit = QUOTE_LIMIT): string {
  const cut = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return JSON.stringify(cut);
}

/**
 * The JSON text inside a model reply: the first fenced block when there is one (models often
 * wrap JSON in ```json … ```), else the span from the first `{` to the last `}`.
 */
export function extractJsonText(reply: string): string {
  const fence = /```[a-zA-Z]*[ \t]*\r?\n([\s\S]*?)```/.exec(reply);
  if (fence?.[1] !== undefined) return fence[1].trim();
  const trimmed = reply.trim();
  const first = trimmed.indexOf('{');
  const last = trimmed.lastIndexOf('}');
  if (first >= 0 && last > first) return trimmed.slice(first, last + 1);
  return trimmed;
}

/** `subtasks[1].files[0]`-style rendering of an issue path. */
export function formatIssuePath(issuePath: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of issuePath) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(the whole reply)' : out;
}

/** Every issue of a zod error, one `path: message` per issue, joined with "; ". */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`).join('; ');
}

/** Parses JSON, returning the error message instead of throwing. */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
