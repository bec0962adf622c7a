/**
 * A reply without native tool calls, read as text: the edit blocks in it (SEARCH/REPLACE, unified
 * diffs, whole files when configured) are applied and the JSON tool calls in it run, all answered
 * in one user message; a reply whose edits or calls cannot be read gets the parser's message. A
 * reply with none of these means the model is done. A reply the provider marked as a malformed
 * tool call (finish reason `malformed_tool_call`) is never read as text: it is a parse error too.
 */
import { lstatSync } from 'node:fs';
import { FinishReasons, type ToolCall } from '@maestro/llm';
import { flagCiConfigChanges } from '../ci-review-flag.js';
import { applyReplyEdits, extractEdits } from '../edits/reply-edits.js';
import { extractTextToolCalls, unreadableToolCallMessage } from '../text-tool-calls.js';
import type { ToolRegistry } from '../tool-registry.js';
import { listWorkspaceFiles } from '../workspace-files.js';
import { resolveWorkspacePath } from '../workspace-path.js';
import type { LoopRun } from './loop-run.js';
import { truncate } from './step-text.js';
import { callKey } from './stuck-detector.js';
import { runToolCall } from './tool-calls.js';

/** Files offered to the edit parsers for resolving sloppy file names. */
const KNOWN_PATHS_MAX = 20_000;

/** What a text reply amounted to. */
export type TextReplyOutcome =
  /** No edits and no calls: the model says it is done. `knownPaths`: the workspace's files, as the parsers saw them. */
  | { kind: 'done'; knownPaths: string[] }
  /** Edits applied or calls run (or the reply could not be read); the answer is in the history. */
  | { kind: 'continue' }
  /** The run is stuck (the answer is in the history when there was one). */
  | { kind: 'stuck'; reason: string };

/**
 * The `tool` of the steps a reply's text leads to, besides the tools it calls: its edits (applied,
 * or not readable), or a tool call that could not be read (written as text, or native and
 * malformed).
 */
export const TextReplyTools = {
  edits: 'edits',
  toolCall: 'tool_call',
} as const;
/** One of {@link TextReplyTools}. */
export type TextReplyTool = (typeof TextReplyTools)[keyof typeof TextReplyTools];

/** What the model is told when the provider could not parse the tool call it made. */
export const MALFORMED_TOOL_CALL_PROBLEM = unreadableToolCallMessage('', `the model provider could not parse it (finish reason ${FinishReasons.malformedToolCall}).`);

/**
 * Answers a reply nothing could be taken from: `problem` goes back to the model as a user message
 * and is reported as a failed `tool` step, and the reply counts for stuck detection like any
 * action (the same reply answered the same way three times in a row is stuck).
 */
async function answerUnreadableReply(run: LoopRun, tool: TextReplyTool, problem: string, content: string): Promise<Exclude<TextReplyOutcome, { kind: 'done' }>> {
  run.history.push({ role: 'user', content: problem });
  await run.report({ kind: 'tool', tool, summary: truncate(problem), ok: false, observation: problem });
  const stuck = run.stuck.remember('an unreadable reply', problem, `reply\0${content.trim()}`);
  return stuck !== undefined ? { kind: 'stuck', reason: stuck } : { kind: 'continue' };
}

/**
 * Handles a reply whose tool call the provider could not parse (Gemini `MALFORMED_FUNCTION_CALL`):
 * not a final answer but a parse error, answered like an unreadable text tool call and bounded the
 * same way (stuck detection, then the turn budget). Nothing in the reply is run or applied.
 */
export async function handleMalformedToolCall(run: LoopRun, content: string): Promise<Exclude<TextReplyOutcome, { kind: 'done' }>> {
  return answerUnreadableReply(run, TextReplyTools.toolCall, MALFORMED_TOOL_CALL_PROBLEM, content);
}

/** For diff headers: does the workspace have this path (so an `a/` or `b/` directory is real)? */
function existsIn(workspace: string): (path: string) => boolean {
  return (path) => {
    try {
      lstatSync(resolveWorkspacePath(workspace, path).absolute);
      return true;
    } catch {
      return false;
    }
  };
}

async function knownPaths(run: LoopRun): Promise<string[]> {
  const { options, workspace } = run.settings;
  try {
    return (await listWorkspaceFiles(workspace, '.', { maxFiles: KNOWN_PATHS_MAX, ...(options.signal ? { signal: options.signal } : {}), ...(options.env ? { env: options.env } : {}) })).files;
  } catch {
    // Without the list, names are taken as written; the edit itself still checks every path.
    return [];
  }
}

/**
 * Handles the text of a reply that made no native calls (see the module comment). Whole files
 * only when configured, and never matched by basename: a guess would overwrite a file. If the
 * reply's edits fail, its calls are not run.
 */
export async function handleTextReply(run: LoopRun, tools: ToolRegistry, content: string): Promise<TextReplyOutcome> {
  const { workspace, textEditFormats, options } = run.settings;
  const known = await knownPaths(run);
  const found = extractEdits(content, { knownPaths: known, formats: textEditFormats, exists: existsIn(workspace), matchBasenames: false });
  const wholeFiles = found.ok ? found.value.edits.flatMap((edit) => (edit.kind === 'whole-file' ? [edit.content] : [])) : [];
  const textCalls = extractTextToolCalls(content, { ignoreBlocks: wholeFiles });
  if (!found.ok || !textCalls.ok) {
    const problem = !found.ok
      ? `${found.error.message}${textCalls.ok && textCalls.calls.length > 0 ? ' The tool calls in your reply were not run either.' : ''}`
      : textCalls.ok
        ? ''
        : textCalls.message;
    return answerUnreadableReply(run, !found.ok ? TextReplyTools.edits : TextReplyTools.toolCall, problem, content);
  }
  const edits = found.value.edits;
  if (edits.length === 0 && textCalls.calls.length === 0) return { kind: 'done', knownPaths: known };

  const answers: string[] = [];
  let editsFailed = false;
  if (edits.length > 0) {
    let outcome: string;
    let ok: boolean;
    let flags: string[] = [];
    const startedAt = run.settings.clock.now();
    try {
      const applied = await applyReplyEdits(workspace, edits, options.writeGuard ? { writeGuard: options.writeGuard } : {});
      ok = applied.ok;
      if (applied.ok) {
        applied.value.files.filter((file) => file.action !== 'unchanged').forEach((file) => run.reportedFiles.add(file.path));
        const shell = found.value.shell.length;
        const flagged = flagCiConfigChanges({
          ok: true,
          output:
            applied.value.summary +
            (shell > 0 ? ` The ${shell === 1 ? 'shell block' : `${shell} shell blocks`} in your reply ${shell === 1 ? 'was' : 'were'} not run; use the exec tool to run commands.` : ''),
          effects: { filesChanged: applied.value.files.filter((file) => file.action !== 'unchanged').map((file) => file.path) },
        });
        outcome = flagged.output;
        flags = flagged.flags ?? [];
      } else {
        outcome = applied.error.message;
      }
    } catch (err) {
      ok = false;
      outcome = `The edits in your reply could not be applied: ${err instanceof Error ? err.message : String(err)}. Nothing was changed.`;
    }
    editsFailed = !ok;
    answers.push(outcome);
    await run.report({
      kind: 'tool',
      tool: TextReplyTools.edits,
      summary: truncate(`${found.value.format}: ${outcome}`),
      ok,
      durationMs: Math.max(0, run.settings.clock.now() - startedAt),
      arguments: JSON.stringify({ format: found.value.format, files: [...new Set(edits.map((edit) => edit.path))] }),
      observation: outcome,
      ...(flags.length > 0 ? { flags } : {}),
    });
    const stuck = run.stuck.remember(`the same ${found.value.format} edits`, outcome, `edits\0${content.trim()}`);
    if (stuck !== undefined) return { kind: 'stuck', reason: stuck };
  }
  if (editsFailed && textCalls.calls.length > 0) {
    answers.push('The tool calls in your reply were not run, because its edits failed; send them again once the edits apply.');
  } else {
    for (const [i, textCall] of textCalls.calls.entries()) {
      const call: ToolCall = { id: `text-${run.steps}-${i + 1}`, name: textCall.name, argumentsJson: textCall.argumentsJson };
      const { observation, stuck } = await runToolCall(run, tools, call);
      answers.push(
        `${call.name} ${observation.ok ? 'returned' : 'failed'}:\n${observation.output}` +
          (textCall.repaired ? `\n[note: your tool call was not valid JSON; it was repaired and read as ${callKey(call)}. Send strict JSON next time.]` : ''),
      );
      if (stuck !== undefined) {
        run.history.push({ role: 'user', content: answers.join('\n\n') });
        return { kind: 'stuck', reason: stuck };
      }
    }
  }
  run.history.push({ role: 'user', content: answers.join('\n\n') });
  return { kind: 'continue' };
}
