/**
 * The default system prompt: the rules of the game, the tools (as signatures), the ways to act
 * without native tool calls (JSON tool calls and edit blocks in the text), pinning facts, and how
 * "done" is judged.
 */
import type { ToolSpec } from '@maestro/llm';
import { ReplyFormats } from '../edits/reply-edits.js';
import { TEXT_TOOL_CALL_EXAMPLE } from '../text-tool-calls.js';
import { DEFAULT_TEXT_EDIT_FORMATS, type TextEditFormat } from './loop-options.js';
import { PIN_TOOL_NAME } from './pin-tool.js';

/** `fs.read(path, startLine?, endLine?)`: a tool's signature for the prompt, from its schema. */
export function signature(spec: ToolSpec): string {
  const properties = spec.parameters.properties;
  const required = new Set(Array.isArray(spec.parameters.required) ? (spec.parameters.required as unknown[]) : []);
  const names = typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
  return `${spec.name}(${names.map((name) => (required.has(name) ? name : `${name}?`)).join(', ')})`;
}

/**
 * The default system prompt: the rules of the game, the tools, the ways to act without native
 * tool calls (JSON tool calls and edit blocks in the text), and how "done" is judged. When the
 * tools include `context.pin` (the loop adds it), it also says that older turns may be
 * summarised and how to pin what must survive.
 *
 * @example
 * runAgentLoop({ ..., systemPrompt: `${defaultSystemPrompt(['npm', 'test'], tools.specs())}\nNever touch vendor/.` });
 */
export function defaultSystemPrompt(
  testCommand: readonly string[],
  tools: readonly ToolSpec[] = [],
  textEditFormats: readonly TextEditFormat[] = DEFAULT_TEXT_EDIT_FORMATS,
): string {
  const formats = new Set(textEditFormats);
  const others = [
    ...(formats.has(ReplyFormats.unifiedDiff) ? ['with a unified diff in a ```diff block'] : []),
    ...(formats.has(ReplyFormats.wholeFile) ? ['with the whole new file in a fenced block after a line with its path'] : []),
  ];
  const textEdits = formats.has(ReplyFormats.searchReplace)
    ? [
        'You may also edit files in your reply with SEARCH/REPLACE blocks: the file path alone on a line, then',
        '<<<<<<< SEARCH',
        'the exact lines to replace',
        '=======',
        'the new lines',
        '>>>>>>> REPLACE',
        `(an empty SEARCH section creates the file)${others.length > 0 ? `, ${others.join(', or ')}` : ''}.`,
      ]
    : others.length > 0
      ? [`You may also edit files in your reply ${others.join(', or ')}.`]
      : [];
  const pinning = tools.some((tool) => tool.name === PIN_TOOL_NAME)
    ? [
        `Older turns of this conversation may be replaced by a summary to save space. Pin anything you must not lose ` +
          `(a constraint, a decision, a finding you will need later) with ${PIN_TOOL_NAME}: pinned facts are kept word for word in every request.`,
      ]
    : [];
  return [
    'You are a careful software engineer working inside a git repository (the workspace).',
    'Use the tools to look at the code, change it, and run commands. Paths are relative to the workspace root.',
    ...(tools.length > 0 ? [`Tools: ${tools.map(signature).join('; ')}.`] : []),
    `If you cannot make native tool calls, write a call as a JSON object in a \`\`\`json block: ${TEXT_TOOL_CALL_EXAMPLE} ` +
      '({"name": ..., "arguments": ...} works too; several calls may be listed in a JSON array). The results come back in the next message.',
    ...textEdits,
    ...pinning,
    'When you have finished the task, reply with a short summary and no tool calls or edits.',
    testCommand.length > 0
      ? `Your work is then checked by running ${JSON.stringify(testCommand)}; if it fails you get the output and continue.`
      : 'There is no test command for this repository; check your work yourself before you finish.',
    'Commit your finished work with git.commit.',
  ].join('\n');
}

/**
 * The files in scope and the preferences to follow, as a section of the system prompt (so every
 * request carries them verbatim: they are pinned facts); '' when there are none.
 */
export function scopeSection(files: readonly string[], preferences: readonly string[]): string {
  return [
    ...(files.length > 0 ? [`Files in scope for this task: ${files.join(', ')}`] : []),
    ...(preferences.length > 0 ? ['Preferences of the user or team (follow them):', ...preferences.map((preference) => `- ${preference}`)] : []),
  ].join('\n');
}
