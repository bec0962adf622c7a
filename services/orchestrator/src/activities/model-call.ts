/**
 * One strategic model call through the router, shared by plan, review, escalations and reflexes: builds
 * the CompleteRequest, calls with the model deadline, and returns the reply text together with
 * who answered, so a scripted reply is always labelled as one. {@link askUntilParsed} puts a
 * reply that does not parse back to the model with the parse error, a bounded number of times.
 */
import { ChatMessage, CompleteRequest, type ActivityRequest } from '@maestro/contracts';
import { isMaestroError, processSecrets, UserError, type Logger } from '@maestro/runtime';
import { buildReAskMessages, type PromptMessage } from '../domain/prompts.js';
import type { TaskRecord } from '../domain/task.js';
import type { ActivityDeps } from './activity.js';

/** Why Orion asks the strategic model (the router's intent); `reflect` words a reflex (`app/learn-reflex.ts`), `answer` answers a question (`answer.activity.ts`). */
export type StrategicIntent = 'plan' | 'review' | 'escalate' | 'reflect' | 'answer';

/**
 * What a strategic call needs: an activity invocation has it all; an escalation supplies the
 * same, with the subtask and attempt it is about (for the router's accounting).
 */
export interface StrategicCall {
  request: Pick<ActivityRequest, 'runId'>;
  taskId: string;
  /**
   * The task as the caller read it: its budget and intent travel with every call (the router
   * refuses calls over budget, and its policy may route by the task's intent).
   */
  task: Pick<TaskRecord, 'budget' | 'intent'>;
  deps: Pick<ActivityDeps, 'router' | 'options'>;
  logger: Logger;
  signal: AbortSignal;
  subtaskId?: string;
  attempt?: number;
}

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
  invocation: StrategicCall,
  intent: StrategicIntent,
  messages: readonly PromptMessage[],
): Promise<{ text: string; model: ModelIdentity }> {
  const { request, taskId, task, deps, logger, signal } = invocation;
  const response = await deps.router.complete(
    CompleteRequest.fromPartial({
      role: 'strategic',
      intent,
      // Prompts quote repository files, results and escalations: none may carry this process's secrets.
      messages: messages.map((m) => ChatMessage.fromPartial({ role: m.role, content: processSecrets().redact(m.content) })),
      taskId,
      runId: request.runId,
      ...(invocation.subtaskId !== undefined ? { subtaskId: invocation.subtaskId } : {}),
      ...(invocation.attempt !== undefined ? { attempt: invocation.attempt } : {}),
      budgetUsd: task.budget.usd,
      budgetTokens: task.budget.tokens,
      taskIntent: task.intent?.intent ?? '',
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

/** A reply that parsed, who gave it, and how often it had to be asked again. */
export interface ParsedReply<T> {
  value: T;
  model: ModelIdentity;
  reAsks: number;
}

/** How a reply is parsed and asked again. */
export interface ReAskOptions<T> {
  /** Parses the reply text; a `UserError` means the reply cannot be used. */
  parse: (text: string) => T;
  /** The reply format the re-ask repeats. */
  replyFormat: string;
  /** Re-asks after the first reply. @default 2 */
  reAsks?: number;
}

/**
 * Asks the strategic model and parses its reply; a reply that does not parse is put back to the
 * model (its reply, then the parse error and the format) up to `reAsks` times, and the last
 * parse error is thrown when none parsed. Other errors (router, empty reply) are thrown as they are.
 */
export async function askUntilParsed<T>(
  invocation: StrategicCall,
  intent: StrategicIntent,
  messages: readonly PromptMessage[],
  options: ReAskOptions<T>,
): Promise<ParsedReply<T>> {
  const reAsks = Math.max(0, options.reAsks ?? 2);
  let conversation = [...messages];
  for (let asked = 0; ; asked++) {
    const { text, model } = await askStrategicModel(invocation, intent, conversation);
    try {
      return { value: options.parse(text), model, reAsks: asked };
    } catch (err) {
      if (!(isMaestroError(err) && err instanceof UserError) || asked >= reAsks) throw err;
      invocation.logger.warn('strategic reply did not parse; asking again', { intent, code: err.code, reAsk: asked + 1, of: reAsks, error: err.message });
      conversation = buildReAskMessages(conversation, text, err.message, options.replyFormat);
    }
  }
}
