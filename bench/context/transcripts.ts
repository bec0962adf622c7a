/**
 * The transcripts corpus (`shared/corpora/transcripts/transcripts.json`, see its README) read
 * into the agent's message type: tool calls' `arguments` objects become `argumentsJson` text as
 * a model would have sent them, `tool_call_id` becomes `toolCallId`, reasoning stays apart
 * (it is not sent back as input, so it is not counted). Aider's console output is logged as
 * `tool` messages answering no call; they stay so (the condenser treats them as observations),
 * which a provider would refuse, but the bench sends nothing to a provider.
 */
import { readFileSync } from 'node:fs';
import type { ChatMessage, ToolCall } from '@maestro/llm';

/** A fact a correct condensation keeps: a literal substring of the message at `firstSeen`. */
export interface TranscriptFact {
  kind: string;
  text: string;
  firstSeen: number;
}

/** One transcript, ready to replay. */
export interface Transcript {
  id: string;
  /** The model or agent that produced it, for the table. */
  producer: string;
  facts: TranscriptFact[];
  messages: ChatMessage[];
  /** Assistant turns: requests the agent sent. */
  turns: number;
}

function fail(where: string, what: string): never {
  throw new Error(`${where}: ${what}`);
}

function readMessage(raw: unknown, where: string): ChatMessage {
  if (raw === null || typeof raw !== 'object') fail(where, 'must be an object');
  const m = raw as Record<string, unknown>;
  const role = m.role;
  if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') fail(`${where}.role`, `must be system, user, assistant or tool, got ${JSON.stringify(role)}`);
  if (typeof m.content !== 'string') fail(`${where}.content`, 'must be a string');
  const message: ChatMessage = { role, content: m.content };
  if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
    message.toolCalls = m.tool_calls.map((call: unknown, i): ToolCall => {
      const c = (call ?? {}) as Record<string, unknown>;
      if (typeof c.name !== 'string' || c.name === '') fail(`${where}.tool_calls[${i}].name`, 'must be a non-empty string');
      const args = c.arguments;
      return { id: typeof c.id === 'string' ? c.id : `${where}-call-${i}`, name: c.name, argumentsJson: typeof args === 'string' ? args : JSON.stringify(args ?? {}) };
    });
  }
  if (typeof m.tool_call_id === 'string' && m.tool_call_id !== '') message.toolCallId = m.tool_call_id;
  if (typeof m.name === 'string' && m.name !== '' && role === 'tool') message.name = m.name;
  if (typeof m.reasoning === 'string' && m.reasoning !== '') message.reasoning = m.reasoning;
  return message;
}

/** Reads a transcripts file; throws naming the transcript and field when the format is wrong. */
export function loadTranscripts(path: string): Transcript[] {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(parsed)) fail(path, 'must hold a JSON list of transcripts');
  return parsed.map((raw: unknown, t): Transcript => {
    const where = `transcripts[${t}]`;
    const item = (raw ?? {}) as Record<string, unknown>;
    const id = typeof item.id === 'string' ? item.id : fail(`${where}.id`, 'must be a string');
    if (!Array.isArray(item.messages)) fail(`${where}.messages`, 'must be a list');
    const messages = item.messages.map((m: unknown, i) => readMessage(m, `${where}.messages[${i}]`));
    const facts = Array.isArray(item.facts)
      ? item.facts.map((f: unknown, i): TranscriptFact => {
          const fact = (f ?? {}) as Record<string, unknown>;
          if (typeof fact.text !== 'string' || fact.text === '') fail(`${where}.facts[${i}].text`, 'must be a non-empty string');
          return { kind: typeof fact.kind === 'string' ? fact.kind : 'fact', text: fact.text, firstSeen: typeof fact.first_seen === 'number' ? fact.first_seen : -1 };
        })
      : [];
    const source = (item.source ?? {}) as Record<string, unknown>;
    const producer = typeof source.model === 'string' ? source.model : typeof source.agent === 'string' ? source.agent : 'unknown';
    return { id, producer, facts, messages, turns: messages.filter((m) => m.role === 'assistant').length };
  });
}
