/**
 * Reads what an agent step's summary says. The executor writes a model step as
 * `[scripted] provider/model: reply → tool, tool` and a tool step as `tool {args} → observation`
 * (see packages/agent), so the viewer can show the model, the arguments and the observation apart.
 */

/** The model a `model` step says answered. */
export interface ModelStepText {
  scripted: boolean;
  provider: string;
  model: string;
  reply: string;
}

/** Reads a `model` step's summary; undefined when it is not in the executor's format. */
export function parseModelSummary(summary: string): ModelStepText | undefined {
  const match = /^(\[scripted\] )?([^\s/:]+)\/([^\s:]+): ?([\s\S]*)$/.exec(summary);
  if (!match) return undefined;
  return { scripted: match[1] !== undefined, provider: match[2] ?? '', model: match[3] ?? '', reply: match[4] ?? '' };
}

/** A `tool` step's arguments and observation. */
export interface ToolStepText {
  /** The arguments as the agent sent them (JSON text), '' when the summary has none. */
  args: string;
  observation: string;
}

/** Reads a `tool` step's summary: `name {args} → observation` (or the summary as the observation). */
export function parseToolSummary(summary: string, tool: string | undefined): ToolStepText {
  const arrow = summary.indexOf(' → ');
  const head = arrow >= 0 ? summary.slice(0, arrow) : '';
  const observation = arrow >= 0 ? summary.slice(arrow + 3) : summary;
  if (tool !== undefined && head.startsWith(tool)) return { args: head.slice(tool.length).trim(), observation };
  if (arrow >= 0 && tool === undefined) return { args: head, observation };
  return { args: '', observation: arrow >= 0 && head !== '' && tool !== undefined ? summary : observation };
}

/** Text longer than this is shown collapsed until opened. @default 240 characters */
export const COLLAPSE_AFTER_CHARS = 240;

/** Whether a text is long enough to show collapsed. */
export function isLongText(text: string, limit = COLLAPSE_AFTER_CHARS): boolean {
  return text.length > limit || text.split('\n').length > 6;
}
