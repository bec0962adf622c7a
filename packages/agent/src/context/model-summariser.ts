/**
 * The summary of older turns by a model (the tactical one, when configured): it is shown the
 * previous summary, the turns to fold in (each tool output cut to its head and tail, reasoning
 * left out) and the pinned facts, which the request keeps verbatim anyway, and asked for a
 * compact account an engineer could continue from. It pays per token, so it never rereads what
 * the previous summary covered. Its usage is returned for the loop's budget.
 */
import { o200kCounter, type ChatMessage, type TokenCounter, type Usage } from '@maestro/llm';
import type { ChatModel } from '../chat-model.js';
import type { PinnedFact, SummariseOptions, Summariser } from './context-types.js';
import { cutHeadTail } from './head-tail.js';
import { messageText } from './request-text.js';

/** Options of {@link ModelSummariser}. */
export interface ModelSummariserOptions {
  /** Each message shown to the model is cut to this many tokens (head and tail). @default 800 */
  maxMessageTokens?: number;
  /** Counts for the cuts. @default o200kCounter */
  tokenCounter?: TokenCounter;
}

/** What the summarising model is asked to do. */
export const SUMMARY_INSTRUCTIONS = [
  'You condense the history of a software engineering agent so it can continue the same task with less context.',
  'Write a compact summary of the turns below: what was tried (files read, commands run, edits made, with the exact file paths and',
  'the key lines of code changed), what each attempt showed (exact error messages, test results), what is known to work or not,',
  'and what remains to do. Quote errors, paths and identifiers exactly. Leave out reasoning, pleasantries and repeated output.',
  'The pinned facts listed are kept verbatim next to your summary: do not contradict them; you need not repeat them.',
].join('\n');

/** The pinned facts as the model is shown them. */
function listFacts(pinned: readonly PinnedFact[]): string {
  return pinned.length === 0 ? '(none)' : pinned.map((fact) => `- [${fact.kind}] ${fact.text}`).join('\n');
}

/** A {@link Summariser} over a {@link ChatModel} (see the module comment). */
export class ModelSummariser implements Summariser {
  readonly by = 'model' as const;
  private readonly maxMessageTokens: number;
  private readonly counter: TokenCounter;

  constructor(
    private readonly model: ChatModel,
    options: ModelSummariserOptions = {},
  ) {
    this.maxMessageTokens = options.maxMessageTokens ?? 800;
    this.counter = options.tokenCounter ?? o200kCounter;
  }

  async summarise(messages: readonly ChatMessage[], options: SummariseOptions): Promise<{ text: string; usage: Usage }> {
    const previous = options.previous;
    const fresh = previous !== undefined ? messages.slice(previous.messages) : messages;
    const transcript = fresh
      .map((message) => `### ${message.role}${message.name !== undefined ? ` (${message.name})` : ''}\n${cutHeadTail(messageText(message).trim(), this.maxMessageTokens, this.counter)}`)
      .join('\n\n');
    const prompt = [
      `Pinned facts:\n${listFacts(options.pinned)}`,
      ...(previous !== undefined ? [`Summary of the turns before these:\n${previous.text}`] : []),
      `Turns to fold into the summary:\n${transcript}`,
      options.maxTokens !== undefined && Number.isFinite(options.maxTokens)
        ? `Write the new summary (covering the earlier summary too) in at most ${options.maxTokens} tokens.`
        : 'Write the new summary (covering the earlier summary too).',
    ].join('\n\n');
    const reply = await this.model.complete({
      messages: [
        { role: 'system', content: SUMMARY_INSTRUCTIONS },
        { role: 'user', content: prompt },
      ],
      tools: [],
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    return { text: reply.message.content.trim(), usage: reply.usage };
  }
}
