/**
 * The agent's `ChatModel` over the router's gRPC `Complete`: every tactical completion goes
 * through the router, which picks the provider, counts tokens and cost, and publishes usage.
 */
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import type { CompleteRequest, CompleteResponse } from '@maestro/contracts';
import { FinishReasons, fromProtoMessage, toProtoMessage, toProtoToolSpec, type FinishReason, type Usage } from '@maestro/llm';
import { UnexpectedError } from '@maestro/runtime';

/** The one router method the executor calls (the `call` side of a runtime gRPC client). */
export interface RouterCompleteClient {
  complete(request: CompleteRequest, options?: { deadlineMs?: number; signal?: AbortSignal }): Promise<CompleteResponse>;
}

/** Options for {@link RouterChatModel}. */
export interface RouterChatModelOptions {
  client: RouterCompleteClient;
  /** The task, run and subtask the completions serve; the router accounts usage to them. */
  taskId: string;
  runId: string;
  subtaskId: string;
  /**
   * The role asked for: `strategic` when Orion took the subtask over after an escalation.
   * @default 'tactical'
   */
  role?: 'tactical' | 'strategic';
  /** The work item's attempt, so the router credits the model with this attempt's verdict. @default 0 (unknown) */
  attempt?: number;
  /** The task's model budget; the router refuses calls once the task has spent it. @default no limit */
  budget?: { usd: number; tokens: number };
  /** The task's classified intent, for the routing policy. */
  taskIntent?: string;
  /**
   * Deadline of one completion. Coding models with tools can think for minutes.
   * @default 180000
   */
  deadlineMs?: number;
}

/** The role and intent of executor completions: tactical coding (strategic for a subtask Orion took over). */
export const EXECUTOR_ROUTE = { role: 'tactical', intent: 'code' } as const;

/** Builds the router request for one turn of the agent loop. */
export function toCompleteRequest(
  req: ChatModelRequest,
  ids: Pick<RouterChatModelOptions, 'taskId' | 'runId' | 'subtaskId' | 'role' | 'attempt' | 'budget' | 'taskIntent'>,
): CompleteRequest {
  return {
    role: ids.role ?? EXECUTOR_ROUTE.role,
    intent: EXECUTOR_ROUTE.intent,
    messages: req.messages.map(toProtoMessage),
    tools: req.tools.map(toProtoToolSpec),
    maxOutputTokens: 0,
    taskId: ids.taskId,
    runId: ids.runId,
    subtaskId: ids.subtaskId,
    attempt: ids.attempt ?? 0,
    budgetUsd: ids.budget?.usd ?? 0,
    budgetTokens: ids.budget?.tokens ?? 0,
    taskIntent: ids.taskIntent ?? '',
  };
}

/** The router's usage as the loop counts it; cached input and reasoning tokens only when there were any. */
function toUsage(usage: CompleteResponse['usage']): Usage {
  const cached = usage?.cachedInputTokens ?? 0;
  const reasoning = usage?.reasoningTokens ?? 0;
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    ...(cached > 0 ? { cachedInputTokens: cached } : {}),
    ...(reasoning > 0 ? { reasoningTokens: reasoning } : {}),
  };
}

/**
 * Who answered: the spec that served the call when a fallback did (`servedBy`, `provider:model`),
 * else the routing decision's provider and model.
 */
function answeredBy(response: CompleteResponse): { provider: string; model: string } {
  const colon = response.servedBy.indexOf(':');
  if (colon > 0) return { provider: response.servedBy.slice(0, colon), model: response.servedBy.slice(colon + 1) };
  return { provider: response.decision?.provider ?? '', model: response.decision?.model ?? '' };
}

/** True when the router's `finish_reason` is one the loop knows (an empty one is not). */
function isFinishReason(value: string): value is FinishReason {
  return (Object.values(FinishReasons) as string[]).includes(value);
}

/**
 * Reads the router's answer into the loop's shape, with the call's cost as the router priced it
 * (no usage: unpriced) and the finish reason, so a malformed tool call (`malformed_tool_call`)
 * reaches the loop as a parse error rather than as an answer; an empty or unknown finish reason
 * is left out. A reply without a message is a router bug.
 */
export function fromCompleteResponse(response: CompleteResponse): ChatModelReply {
  if (response.message === undefined) {
    throw new UnexpectedError('ROUTER_EMPTY_REPLY', 'the router answered Complete without a message');
  }
  const priced = response.usage?.priced ?? false;
  return {
    message: fromProtoMessage(response.message, 'message'),
    usage: toUsage(response.usage),
    scripted: response.decision?.scripted ?? false,
    ...answeredBy(response),
    cost: { usd: priced ? (response.usage?.costUsd ?? 0) : 0, priced },
    ...(isFinishReason(response.finishReason) ? { finishReason: response.finishReason } : {}),
  };
}

/**
 * A chat model for one subtask that asks the router (role `tactical` unless told otherwise, intent `code`). Errors
 * keep their kind and code: an unreachable router is an `OperationalError`, so the work is handed back; a prompt
 * the provider found too long arrives as the router sent it (gRPC `INVALID_ARGUMENT` with the `maestro-error-code`
 * metadata `CONTEXT_TOO_LONG`, read back by the runtime's client) as a `UserError` with code `CONTEXT_TOO_LONG`,
 * on which the agent loop condenses its context and retries once.
 */
export class RouterChatModel implements ChatModel {
  private readonly deadlineMs: number;

  constructor(private readonly options: RouterChatModelOptions) {
    this.deadlineMs = options.deadlineMs ?? 180_000;
  }

  async complete(req: ChatModelRequest): Promise<ChatModelReply> {
    // The loop's signal fires on its wall-clock budget and on shutdown: the router sees the call
    // cancelled and stops spending tokens on it.
    const response = await this.options.client.complete(toCompleteRequest(req, this.options), {
      deadlineMs: this.deadlineMs,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return fromCompleteResponse(response);
  }
}
