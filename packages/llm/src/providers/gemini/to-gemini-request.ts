/**
 * Our conversation → the Gemini request: `contents` (roles `user` and `model`), a
 * `systemInstruction`, and `tools: [{ functionDeclarations }]` with each tool's JSON Schema as
 * `parametersJsonSchema`. Thought signatures go back on the parts they came on, exactly as
 * received: Gemini rejects a later turn whose function calls lost them.
 */
import type { Content, FunctionDeclaration, Part, Tool } from '@google/genai';
import type { ChatMessage, ToolSpec } from '../../messages.js';

/** The parts of a `generateContent` request built from a conversation. */
export interface GeminiRequest {
  contents: Content[];
  /** The leading system messages, one text part each. */
  systemInstruction?: Content;
  /** Absent when no tool is offered. */
  tools?: Tool[];
}

/**
 * Builds the Gemini request. System messages before the first other message become the
 * `systemInstruction`; a later one becomes a `user` turn (Gemini has one instruction, and the
 * reminder must stay where it was said). An assistant message becomes a `model` turn: its text
 * part (carrying the message's `thoughtSignature`) then one `functionCall` part per tool call
 * (id, name, arguments parsed, its `thoughtSignature`). Consecutive `tool` messages become one
 * `user` turn of `functionResponse` parts `{ id, name, response: { output } }`. Reasoning is
 * not sent back.
 */
export function toGeminiRequest(messages: readonly ChatMessage[], tools: readonly ToolSpec[]): GeminiRequest {
  const contents: Content[] = [];
  const system: Part[] = [];
  const callNames = new Map<string, string>();
  let toolTurn: Part[] | undefined;
  for (const message of messages) {
    if (message.role !== 'tool') toolTurn = undefined;
    switch (message.role) {
      case 'system':
        if (contents.length === 0) system.push({ text: message.content });
        else contents.push({ role: 'user', parts: [{ text: message.content }] });
        break;
      case 'user':
        contents.push({ role: 'user', parts: [{ text: message.content }] });
        break;
      case 'assistant':
        contents.push({ role: 'model', parts: modelParts(message, callNames) });
        break;
      case 'tool': {
        const part: Part = {
          functionResponse: {
            ...(message.toolCallId === undefined ? {} : { id: message.toolCallId }),
            name: message.name ?? callNames.get(message.toolCallId ?? '') ?? message.toolCallId ?? 'tool',
            response: { output: message.content },
          },
        };
        if (toolTurn === undefined) {
          toolTurn = [part];
          contents.push({ role: 'user', parts: toolTurn });
        } else {
          toolTurn.push(part);
        }
        break;
      }
    }
  }
  const request: GeminiRequest = { contents };
  if (system.length > 0) request.systemInstruction = { parts: system };
  if (tools.length > 0) request.tools = [{ functionDeclarations: tools.map(toFunctionDeclaration) }];
  return request;
}

function modelParts(message: ChatMessage, callNames: Map<string, string>): Part[] {
  const parts: Part[] = [];
  const calls = message.toolCalls ?? [];
  if (message.content !== '' || message.thoughtSignature !== undefined || calls.length === 0) {
    const text: Part = { text: message.content };
    if (message.thoughtSignature !== undefined) text.thoughtSignature = message.thoughtSignature;
    parts.push(text);
  }
  for (const call of calls) {
    callNames.set(call.id, call.name);
    const part: Part = { functionCall: { id: call.id, name: call.name, args: toArgs(call.argumentsJson) } };
    if (call.thoughtSignature !== undefined) part.thoughtSignature = call.thoughtSignature;
    parts.push(part);
  }
  return parts;
}

/**
 * Tool call arguments as the object Gemini wants. Arguments that are not a JSON object (a model
 * of another provider may have written broken JSON) travel as `{ _raw_arguments: "<text>" }`,
 * so the model sees what was sent rather than nothing.
 */
export function toArgs(argumentsJson: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(argumentsJson);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Kept raw below.
  }
  return { _raw_arguments: argumentsJson };
}

function toFunctionDeclaration(spec: ToolSpec): FunctionDeclaration {
  return { name: spec.name, description: spec.description, parametersJsonSchema: spec.parameters };
}
