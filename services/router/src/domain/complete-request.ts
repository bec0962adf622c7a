/**
 * Validation of a `CompleteRequest`: everything the proto cannot check, with the field at
 * fault named in the error.
 */
import type { CompleteRequest } from '@maestro/contracts';
import { invalidField } from '@maestro/runtime';
import { fromProtoMessages, fromProtoToolSpec, type ChatMessage, type ToolSpec } from '@maestro/llm';
import { decideRoute, type RoleModels, type RouteDecision } from './routing.js';

/** A valid completion request, decided and converted to the plain conversation types. */
export interface CompletionPlan {
  decision: RouteDecision;
  intent: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  maxOutputTokens?: number;
  /** What the call serves (for accounting), when the caller said. */
  taskId?: string;
  runId?: string;
  subtaskId?: string;
}

/**
 * Checks a request and decides its route. `INVALID_ARGUMENT` names the field: `role`,
 * `intent`, `messages` (empty), `messages[i].role`, `messages[i].tool_call_id`,
 * `tools[i].name`, `max_output_tokens`.
 */
export function planCompletion(request: CompleteRequest, models: RoleModels): CompletionPlan {
  const decision = decideRoute(request, models);
  if (request.messages.length === 0) throw invalidField('messages', 'must hold at least one message');
  const messages = fromProtoMessages(request.messages, 'messages');
  messages.forEach((message, i) => {
    if (message.role === 'tool' && (message.toolCallId ?? '') === '') {
      throw invalidField(`messages[${i}].tool_call_id`, 'a tool message must name the call it answers');
    }
  });
  const names = new Set<string>();
  const tools = request.tools.map((tool, i) => {
    const spec = fromProtoToolSpec(tool, `tools[${i}]`);
    if (names.has(spec.name)) throw invalidField(`tools[${i}].name`, `duplicate tool name "${spec.name}"`);
    names.add(spec.name);
    return spec;
  });
  if (request.maxOutputTokens < 0) throw invalidField('max_output_tokens', 'must not be negative (0 means the model default)');
  return {
    decision,
    intent: request.intent,
    messages,
    tools,
    ...(request.maxOutputTokens > 0 ? { maxOutputTokens: request.maxOutputTokens } : {}),
    ...(request.taskId !== '' ? { taskId: request.taskId } : {}),
    ...(request.runId !== '' ? { runId: request.runId } : {}),
    ...(request.subtaskId !== '' ? { subtaskId: request.subtaskId } : {}),
  };
}
