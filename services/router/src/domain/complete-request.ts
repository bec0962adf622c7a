/**
 * Validation of a `CompleteRequest`: everything the proto cannot check, with the field at
 * fault named in the error.
 */
import type { CompleteRequest } from '@maestro/contracts';
import { invalidField } from '@maestro/runtime';
import { fromProtoMessages, fromProtoToolSpec, type ChatMessage, type ToolSpec } from '@maestro/llm';
import { validateBudget, type TaskBudget } from './budget.js';
import { validateRouteQuery, type RouteQuery } from './routing.js';
import type { Phase } from './routing-policy.js';

/** A valid completion request, converted to the plain conversation types (not yet routed). */
export interface CompletionPlan {
  phase: Phase;
  query: RouteQuery;
  messages: ChatMessage[];
  tools: ToolSpec[];
  maxOutputTokens?: number;
  budget: TaskBudget;
  /** The subtask attempt the call serves (0 = unknown). */
  attempt: number;
  /** What the call serves (for accounting), when the caller said. */
  taskId?: string;
  runId?: string;
  subtaskId?: string;
}

/**
 * Checks a request. `INVALID_ARGUMENT` names the field: `role`, `intent`, `messages` (empty),
 * `messages[i].role`, `messages[i].tool_call_id`, `tools[i].name`, `max_output_tokens`,
 * `budget_usd`, `budget_tokens`, `attempt`.
 */
export function planCompletion(request: CompleteRequest): CompletionPlan {
  const query: RouteQuery = { role: request.role, intent: request.intent, taskIntent: request.taskIntent };
  const { phase } = validateRouteQuery(query);
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
  if (request.attempt < 0) throw invalidField('attempt', 'must not be negative (0 means unknown)');
  const budget = validateBudget(request);
  return {
    phase,
    query,
    messages,
    tools,
    budget,
    attempt: request.attempt,
    ...(request.maxOutputTokens > 0 ? { maxOutputTokens: request.maxOutputTokens } : {}),
    ...(request.taskId !== '' ? { taskId: request.taskId } : {}),
    ...(request.runId !== '' ? { runId: request.runId } : {}),
    ...(request.subtaskId !== '' ? { subtaskId: request.subtaskId } : {}),
  };
}
