/**
 * One strategic model call through the router, shared by plan and review: builds the
 * CompleteRequest, calls with the model deadline, and returns the reply text together with who
 * answered, so a scripted reply is always labelled as one.
 */
import { ChatMessage, CompleteRequest } from '@maestro/contracts';
import { UserError } from '@maestro/runtime';
import type { PromptMessage } from '../domain/prompts.js';
import type { ActivityInvocation } from './activity.js';

/** Who answered a model call; `scripted` is true when a script, not a model, replied. */
export interface ModelIdentity {
  provider: string;
  model: string;
  scripted: boolean;
}

/** Error code when the router answers without any text. */
export const EMPTY_MODEL_REPLY = 'EMPTY_MODEL_REPLY';

/** Asks the strategic model; returns its reply text and identity. */
export async function askStrategicModel(
  invocation: ActivityInvocation,
  intent: 'plan' | 'review',
  messages: readonly PromptMessage[],
): Promise<{ text: string; model: ModelIdentity }> {
  const { request, taskId, deps, logger, signal } = invocation;
  const response = await deps.router.complete(
    CompleteRequest.fromPartial({
      role: 'strategic',
      intent,
      messages: messages.map((m) => ChatMessage.fromPartial({ role: m.role, content: m.content })),
      taskId,
      runId: request.runId,
    }),
    { deadlineMs: deps.options?.modelDeadlineMs ?? 180_000, signal },
  );
  const model: ModelIdentity = {
    provider: response.decision?.provider ?? '',
    model: response.decision?.model ?? '',
    scripted: response.decision?.scripted ?? false,
  };
  const text = response.message?.content ?? '';
  logger.info('strategic model replied', {
    intent,
    ...model,
    finishReason: response.finishReason,
    outputTokens: response.usage?.outputTokens ?? 0,
  });
  if (text.trim() === '') {
    throw new UserError(EMPTY_MODEL_REPLY, `the strategic model gave an empty ${intent} reply (finish reason "${response.finishReason}")`);
  }
  return { text, model };
}
