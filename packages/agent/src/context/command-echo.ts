/**
 * Some agents (mini-swe-agent's format among them) write each command twice: in a fenced block of
 * the reply's text and again in the tool call that runs it. Once a turn has aged, the copy in the
 * text tells the model nothing the call does not, so the condenser sends the reply without it.
 * Only a block whose body is word for word a call's command goes; the prose stays.
 */
import type { ChatMessage } from '@maestro/llm';
import { callCommand } from './file-operations.js';

/** A fenced code block: its opening fence (with an optional language), its body, its closing fence. */
const FENCED_BLOCK = /(^|\n)[ \t]*```[\w+-]*[ \t]*\n([\s\S]*?)\n[ \t]*```[ \t]*(?=\n|$)/g;

/**
 * `message` without the fenced blocks of its text that repeat one of its tool calls' commands
 * (the same object when there are none, so its token count is not taken again).
 *
 * @example
 * withoutCommandEcho({ role: 'assistant', content: 'Run the tests.\n\n```bash\npytest -x\n```', toolCalls: [bash('pytest -x')] }).content; // 'Run the tests.'
 */
export function withoutCommandEcho(message: ChatMessage): ChatMessage {
  if (message.role !== 'assistant' || !message.content.includes('```')) return message;
  const commands = new Set((message.toolCalls ?? []).map(callCommand).filter((command): command is string => command !== undefined && command.trim() !== '').map((command) => command.trim()));
  if (commands.size === 0) return message;
  let removed = false;
  const content = message.content.replace(FENCED_BLOCK, (block: string, lead: string, body: string) => {
    if (!commands.has(body.trim())) return block;
    removed = true;
    return lead;
  });
  if (!removed) return message;
  return { ...message, content: content.replace(/\n{3,}/g, '\n\n').trim() };
}
