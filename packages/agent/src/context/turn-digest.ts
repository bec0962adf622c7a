/**
 * One line (or a few) per message of an agent's history, for summaries by rule and for the
 * condensation's account of what it dropped: the action an assistant took (the tool and its
 * short arguments, the command it ran, the first lines of code it wrote), the gist of what came
 * back (exit status, first line, error lines, last line), and what a person said. Prose and
 * reasoning are left out: the actions and their results are what the next step builds on.
 * Three levels of detail, so a summary can make older turns terser to fit its budget.
 */
import type { ChatMessage, ToolCall } from '@maestro/llm';
import { extractEdits } from '../edits/reply-edits.js';
import { errorLines } from './error-lines.js';
import { callArguments, callCommand, fileOperationsOf, isPureRead, redirectTargets, shellWords, stages } from './file-operations.js';

/** How much of a message a digest keeps: 2 = action with code lines and the result's gist; 1 = action and status; 0 = the action alone, short. */
export type DigestLevel = 0 | 1 | 2;

/** Longest line a digest quotes. */
const LINE_MAX = 160;
/** Lines of code quoted from what the agent wrote, at level 2. */
const CODE_LINES = 3;
/** An output that was only looked at is quoted whole at level 2 up to this many lines. */
const SHORT_OUTPUT_LINES = 4;

function clip(text: string, max = LINE_MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The first lines of a multi-line text, then how many more there were. */
function firstLines(text: string, count: number): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const shown = lines.slice(0, count).map((line) => `    ${clip(line, 120)}`);
  return [...shown, ...(lines.length > count ? [`    … (+${lines.length - count} lines)`] : [])].join('\n');
}

/** A tool call in words: `bash: cat a.py`, `fs.edit src/a.ts: 2 lines`, with the code it wrote at level 2. */
export function describeCall(call: ToolCall, level: DigestLevel): string {
  const args = callArguments(call);
  const command = callCommand(call);
  if (command !== undefined) {
    const [first = '', ...rest] = command.split('\n');
    const head = `${call.name}: ${clip(first, level === 0 ? 80 : LINE_MAX)}`;
    if (level < 2 || rest.length === 0) return rest.length > 0 ? `${head} (+${rest.length} lines)` : head;
    return `${head}\n${firstLines(rest.join('\n'), CODE_LINES)}`;
  }
  const path = typeof args.path === 'string' ? args.path : undefined;
  const written = typeof args.content === 'string' ? args.content : typeof args.new_str === 'string' ? args.new_str : typeof args.patch === 'string' ? args.patch : undefined;
  if (path !== undefined || written !== undefined) {
    const extra = Object.entries(args)
      .filter(([key, value]) => key !== 'path' && typeof value !== 'string')
      .map(([key, value]) => `${key}=${clip(JSON.stringify(value), 30)}`);
    const head = `${call.name}${path !== undefined ? ` ${path}` : ''}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
    if (written === undefined || level === 0) return head;
    const lines = written.split('\n').length;
    return level === 2 ? `${head}: ${lines} lines\n${firstLines(written, CODE_LINES)}` : `${head}: ${lines} lines`;
  }
  const shown = Object.entries(args).map(([key, value]) => `${key}=${clip(typeof value === 'string' ? value : JSON.stringify(value), level === 0 ? 30 : 60)}`);
  return `${call.name}(${shown.join(', ')})`;
}

/** The exit status an output reports (`<returncode>1</returncode>`, `exit code 1`, `exited with 2`), if any. */
export function exitStatus(output: string): string | undefined {
  const tagged = /<returncode>\s*(-?\d+)\s*<\/returncode>/.exec(output);
  if (tagged) return tagged[1];
  const worded = /\bexit(?:ed with| code| status)?\s*:?\s*(-?\d+)\b/i.exec(output.slice(0, 200));
  return worded ? worded[1] : undefined;
}

/** The lines of an output worth reading: markup such as `<output>` and blank lines removed. */
function contentLines(output: string): string[] {
  return output
    .replace(/<returncode>\s*-?\d+\s*<\/returncode>/g, '')
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '' && !/^\s*<\/?(output|warning|stdout|stderr)>\s*$/.test(line));
}

/** Lines that say nothing about the result (warnings and notices of the tools themselves), passed over for the one line quoted. */
const NOISE = /^\s*(?:WARNING|Warning|DEPRECATION|\[notice\]|npm WARN|warning:)/;

/**
 * What a run's output may take in a level-2 digest, in characters (about 150 tokens): a short
 * output is quoted whole, a longer one by as many of its first and last lines as fit, with its
 * error lines. A budget rather than a line count, since lines differ so much in length.
 */
const RUN_GIST_CHARS = 600;

/**
 * The gist of a tool result: status and size, then (by level) what it said. At level 2 the
 * output of a run (what the agent's own scripts and tests printed is a finding) is quoted within
 * {@link RUN_GIST_CHARS}: whole when short, else its first and last lines and its error lines;
 * an output that was only looked at (a file read, a search) by its first and last line (or
 * whole, up to {@link SHORT_OUTPUT_LINES} lines). At level 1, its first error or first line.
 */
export function observationGist(output: string, level: DigestLevel, run = false): string {
  const status = exitStatus(output);
  const lines = contentLines(output);
  const facts = [status !== undefined ? `exit ${status}` : undefined, lines.length === 0 ? 'no output' : `${lines.length} line${lines.length === 1 ? '' : 's'}`]
    .filter((part) => part !== undefined)
    .join(', ');
  if (level === 0 || lines.length === 0) return facts;
  const errors = errorLines(lines.join('\n'));
  if (level === 1) return `${facts}: ${clip(errors[0] ?? lines.find((line) => !NOISE.test(line)) ?? (lines[0] as string), 100)}`;
  // The tools' own warnings (pip's "running as root") are left out of the quote.
  const telling = lines.filter((line) => !NOISE.test(line));
  const quoted = (telling.length > 0 ? telling : lines).map((line) => clip(line));
  return `${facts}:\n${(run ? quoteWithin(quoted, errors.map((line) => clip(line)), RUN_GIST_CHARS) : quoteEnds(quoted)).map((line) => `    ${line}`).join('\n')}`;
}

/** Up to {@link SHORT_OUTPUT_LINES} lines whole, else the first and the last. */
function quoteEnds(lines: readonly string[]): string[] {
  return lines.length <= SHORT_OUTPUT_LINES ? [...lines] : [lines[0] as string, lines[lines.length - 1] as string];
}

/** All `lines` if they fit in `chars`; else the error lines, then first and last lines in turn while they fit, in their order. */
function quoteWithin(lines: readonly string[], errors: readonly string[], chars: number): string[] {
  const size = (picked: Iterable<string>): number => [...picked].reduce((sum, line) => sum + line.length + 5, 0);
  if (size(lines) <= chars) return [...lines];
  const picked = new Set<number>();
  errors.slice(0, 3).forEach((error) => {
    const at = lines.indexOf(error);
    if (at >= 0) picked.add(at);
  });
  let used = size([...picked].map((i) => lines[i] as string));
  for (let k = 0; k < lines.length; k++) {
    // Alternate: first line, last line, second line, second to last …
    const i = k % 2 === 0 ? k / 2 : lines.length - 1 - (k - 1) / 2;
    if (picked.has(i)) continue;
    const cost = (lines[i] as string).length + 5;
    if (used + cost > chars) break;
    picked.add(i);
    used += cost;
  }
  return [...picked].sort((a, b) => a - b).map((i) => lines[i] as string);
}

/** An assistant message without tool calls: the files its text edits changed, or its first sentence. */
function describeReply(content: string, level: DigestLevel): string {
  if (content.includes('<<<<<<<') || content.includes('+++ ')) {
    const found = extractEdits(content, { formats: ['search-replace', 'unified-diff'], matchBasenames: false });
    if (found.ok && found.value.edits.length > 0) {
      const parts = found.value.edits.map((edit) => {
        if (level < 2 || edit.kind !== 'search-replace') return `edited ${edit.path}`;
        return `edited ${edit.path}:\n${firstLines(edit.replace, CODE_LINES)}`;
      });
      return parts.join(level < 2 ? ', ' : '\n');
    }
  }
  const sentence = /^[\s\S]*?[.!?](?=\s|$)/.exec(content.trim())?.[0] ?? content;
  return `said: ${clip(sentence, level === 2 ? LINE_MAX : 80)}`;
}

/** What a turn did, which decides how much of it a summary keeps when space is short. */
export type TurnKind = 'edit' | 'run' | 'look' | 'talk';

/** Programs that only look around (read, search, list), changing nothing. */
const LOOKING_PROGRAMS = new Set(['cat', 'nl', 'head', 'tail', 'less', 'more', 'grep', 'egrep', 'rg', 'ag', 'find', 'ls', 'tree', 'wc', 'file', 'stat', 'which', 'pwd', 'cd', 'sed', 'awk', 'cut', 'sort', 'uniq', 'diff', 'realpath', 'dirname', 'basename', 'xargs']);
/** Workspace tools that only look. */
const LOOKING_TOOLS = new Set(['fs.read', 'fs.list', 'fs.search', 'git.status', 'git.diff']);

/** Whether a call only looks around: a workspace read/list/search, or commands of looking programs (`git` only to show, `sed` only with `-n`). */
function isLookingCall(call: ToolCall): boolean {
  if (LOOKING_TOOLS.has(call.name) || isPureRead(call)) return true;
  const command = callCommand(call);
  if (command === undefined) return false;
  return shellWords(command).every((words) =>
    stages(words).every((stage) => {
      const name = (stage[0] ?? '').replace(/^.*\//, '');
      if (redirectTargets(stage).length > 0) return false;
      if (name === 'git') return ['status', 'log', 'diff', 'show', 'grep', 'ls-files', 'branch'].includes(stage[1] ?? '');
      if (name === 'sed') return stage.includes('-n') && !stage.some((word) => word.startsWith('-i'));
      return LOOKING_PROGRAMS.has(name);
    }),
  );
}

/** The kind of a turn (an assistant message and its results, or a message alone). */
export function turnKind(messages: readonly ChatMessage[]): TurnKind {
  const first = messages[0];
  if (first === undefined) return 'talk';
  if (first.role === 'tool') return 'run';
  if (first.role !== 'assistant') return 'talk';
  if (fileOperationsOf(first).some((op) => op.kind === 'write')) return 'edit';
  const calls = first.toolCalls ?? [];
  if (calls.length === 0) return 'talk';
  return calls.every(isLookingCall) ? 'look' : 'run';
}

/**
 * The digest of a turn. At level 2, each message's digest on its own lines (a run's results
 * quoted more fully, see {@link observationGist}); at levels 1 and 0, one line per call with its
 * result: `- bash: pytest -x → exit 1, 40 lines: FAILED test_a.py::test_b`.
 */
export function digestTurn(messages: readonly ChatMessage[], level: DigestLevel): string {
  // What a turn that ran something printed is a finding (a turn that wrote a script and ran it too).
  const run = turnKind(messages) !== 'look';
  const [first, ...rest] = messages;
  if (first === undefined) return '';
  if (level === 2 || first.role !== 'assistant' || (first.toolCalls ?? []).length === 0) {
    return messages.map((message) => (message.role === 'tool' ? `  → ${observationGist(message.content, level, run)}` : digestMessage(message, level))).join('\n');
  }
  return (first.toolCalls ?? [])
    .map((call) => {
      const result = rest.find((message) => message.toolCallId === call.id);
      return `- ${describeCall(call, level)}${result !== undefined ? ` → ${observationGist(result.content, level, run)}` : ''}`;
    })
    .join('\n');
}

/**
 * The digest of one message: an assistant message is its calls (or its reply), a tool result
 * its gist, a user message what was said (whole when short, at level 2).
 */
export function digestMessage(message: ChatMessage, level: DigestLevel): string {
  switch (message.role) {
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return `- ${describeReply(message.content, level)}`;
      return calls.map((call) => `- ${describeCall(call, level)}`).join('\n');
    }
    case 'tool':
      return `  → ${observationGist(message.content, level)}`;
    case 'user': {
      const text = message.content.trim();
      if (level === 2 && text.length <= 300) return `- user: ${text.replace(/\n+/g, ' / ')}`;
      const errors = level === 2 ? errorLines(text).slice(0, 3) : [];
      return [`- user: ${clip(text.split('\n')[0] ?? '', level === 0 ? 80 : LINE_MAX)}`, ...errors.map((line) => `    ${clip(line)}`)].join('\n');
    }
    default:
      return `- ${message.role}: ${clip(message.content, 80)}`;
  }
}
