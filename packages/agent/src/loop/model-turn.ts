/**
 * One model turn: condense the history into this turn's request, call the model within the
 * wall-clock budget (the call gets a signal that aborts at the budget or on cancellation, and
 * the loop stops waiting then even if the model ignores it), and on a provider's
 * `CONTEXT_TOO_LONG` condense once more (trigger `context_too_long`) and retry once.
 */
import type { Condensation } from '@maestro/contracts';
import { ProviderErrorCodes, type ChatMessage, type ToolSpec, type Usage } from '@maestro/llm';
import type { ChatModelReply } from '../chat-model.js';
import type { LoopEnd, LoopRun } from './loop-run.js';
import { truncate } from './step-text.js';
import { untilAborted } from './until-aborted.js';

/** Why a request is condensed out of turn: the provider said the context was too long. */
export type ForcedCondensation = 'context_too_long';

/** What the loop asks of its context keeper each turn: the request to send, derived from the full history. */
export interface TurnContext {
  view(
    history: readonly ChatMessage[],
    options: { tools: readonly ToolSpec[]; signal?: AbortSignal; force?: ForcedCondensation },
  ): Promise<{ messages: ChatMessage[]; condensation?: Condensation; summariserUsage?: Usage }>;
  /** Tells the context which model answered (its window and tokenizer apply when the caller named none). */
  answeredBy(reply: Pick<ChatModelReply, 'provider' | 'model' | 'scripted'>): void;
}

/** A turn's reply, or how the run ends instead. */
export type ModelTurnOutcome = { kind: 'reply'; reply: ChatModelReply; /** How long the call that answered took. */ durationMs: number } | { kind: 'end'; end: LoopEnd };

/** Whether `err` (or its cause) is a provider's "the prompt is too long for this model". */
export function isContextTooLong(err: unknown): boolean {
  const code = (value: unknown): unknown => (typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined);
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  return code(err) === ProviderErrorCodes.contextTooLong || code(cause) === ProviderErrorCodes.contextTooLong;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `12 840 → 3 120 tokens (budget): 14 messages summarised by rule; 3 dropped`. */
function describeCondensation(c: Condensation): string {
  return (
    `context condensed, ${c.tokensBefore} → ${c.tokensAfter} tokens (${c.trigger === 'budget' ? 'over budget' : 'the provider said the context was too long'}; ${c.counted}): ` +
    `${c.summarisedMessages} messages summarised by ${c.summarisedBy}, ${c.dropped.length} shortened or dropped, ${c.pinnedFacts} pinned facts kept` +
    (c.rejected !== undefined ? `; a first condensation was rejected: ${c.rejected}` : '')
  );
}

/**
 * Takes one turn (see the module comment). The condensation made for it, if any, is reported as
 * a `condensation` step before the call. Never throws: a failed call, a cut-off call or a second
 * `CONTEXT_TOO_LONG` ends the run.
 */
export async function takeModelTurn(run: LoopRun, context: TurnContext, tools: readonly ToolSpec[]): Promise<ModelTurnOutcome> {
  const { options, maxWallMs } = run.settings;
  const wallSignal = AbortSignal.timeout(run.remainingWall());
  const signal = options.signal ? AbortSignal.any([options.signal, wallSignal]) : wallSignal;
  const cutOff = (): ModelTurnOutcome | undefined => {
    if (run.cancelled()) return { kind: 'end', end: run.cancelledEnd() };
    if (wallSignal.aborted || run.outOfTime()) {
      return { kind: 'end', end: { status: 'budget_exhausted', summary: run.lastContent || 'out of time', reason: `used the whole wall-clock budget of ${maxWallMs} ms (the model call was cut off)` } };
    }
    return undefined;
  };
  const request = async (force?: ForcedCondensation): Promise<ChatMessage[]> => {
    const view = await context.view(run.history, { tools, signal, ...(force !== undefined ? { force } : {}) });
    // A model summariser's tokens are the run's too: they count against its budget.
    if (view.summariserUsage !== undefined) run.addUsage(view.summariserUsage);
    if (view.condensation !== undefined) {
      await run.report({ kind: 'condensation', summary: truncate(describeCondensation(view.condensation)), ok: true, condensation: view.condensation });
    }
    // What leaves for the model is redacted; the history keeps what the tools said.
    return run.redacted(view.messages);
  };

  let retried = false;
  for (;;) {
    let messages: ChatMessage[];
    try {
      messages = await request(retried ? 'context_too_long' : undefined);
    } catch (err) {
      return cutOff() ?? { kind: 'end', end: { status: 'failed', summary: run.lastContent || 'the context could not be condensed', reason: `condensing the context failed: ${message(err)}` } };
    }
    try {
      const startedAt = run.settings.clock.now();
      const reply = await untilAborted(options.model.complete({ messages, tools: [...tools], signal }), signal);
      const durationMs = Math.max(0, run.settings.clock.now() - startedAt);
      context.answeredBy(reply);
      return { kind: 'reply', reply, durationMs };
    } catch (err) {
      const ended = cutOff();
      if (ended !== undefined) return ended;
      if (isContextTooLong(err) && !retried) {
        retried = true;
        continue;
      }
      const reason = isContextTooLong(err)
        ? `the request was still too long for the model after condensing it (CONTEXT_TOO_LONG twice in one turn): ${message(err)}`
        : `model call failed: ${message(err)}`;
      return { kind: 'end', end: { status: 'failed', summary: run.lastContent || 'the model call failed', reason } };
    }
  }
}
