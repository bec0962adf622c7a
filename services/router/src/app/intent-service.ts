/**
 * What a goal asks for, for `ClassifyIntent`: the local classifier answers (deterministic, well
 * under a millisecond), and when it is less sure than the policy's `intentModel.askBelow`, the
 * model the policy routes the `classify` phase to is asked, within `intentModel.deadlineMs`. A
 * scripted model is never asked (its reply would be a replay, not a judgement). When the model
 * fails, is too slow or answers something unreadable, the classifier's answer stands and its
 * reason says what happened; classifying never fails for the model's sake.
 */
import { CompleteRequest } from '@maestro/contracts';
import { classifyIntent } from '@maestro/intent';
import { parseModelSpec, toProtoMessage } from '@maestro/llm';
import { toMaestroError, type Clock, type Logger } from '@maestro/runtime';
import { intentQuestion, IntentReplyError, parseIntentReply, type RulesAnswer } from '../domain/intent-by-model.js';
import { workflowFor, type RoutingPolicy } from '../domain/routing-policy.js';
import type { CompletionService } from './completion-service.js';

/** The reply is one short JSON object. */
const MAX_REPLY_TOKENS = 200;

/** Who decided an intent when the model did not: the local classifier. */
export const DECIDED_BY_RULES = 'rules';

/** An answer to ClassifyIntent. */
export interface IntentAnswer {
  intent: string;
  confidence: number;
  reason: string;
  workflow: string;
  /** {@link DECIDED_BY_RULES}, or the spec of the model that decided. */
  decidedBy: string;
}

/** What the service needs. */
export interface IntentServiceDeps {
  completions: Pick<CompletionService, 'route' | 'complete'>;
  policy: RoutingPolicy;
  clock: Pick<Clock, 'setTimer'>;
}

/** See the module comment. */
export class IntentService {
  constructor(private readonly deps: IntentServiceDeps) {}

  /** Classifies `text` (INVALID_ARGUMENT on `text` when blank, from the classifier). */
  async classify(text: string, logger: Logger, signal?: AbortSignal): Promise<IntentAnswer> {
    const rules = classifyIntent(text);
    const { askBelow, deadlineMs } = this.deps.policy.intentModel;
    if (rules.confidence >= askBelow) return this.answer(rules, DECIDED_BY_RULES);
    let decision: Awaited<ReturnType<IntentServiceDeps['completions']['route']>>;
    try {
      decision = await this.deps.completions.route({ role: '', intent: 'classify', taskIntent: '' });
    } catch (err) {
      // The policy routes `classify` nowhere usable (a rule's measured rates unreadable…): the classifier's answer stands.
      logger.warn('no model could be routed to classify an unclear goal; the classifier\'s answer stands', { err });
      return this.answer({ ...rules, reason: `${rules.reason} (no model could be asked as the classifier was unsure: ${toMaestroError(err).message})` }, DECIDED_BY_RULES);
    }
    if (parseModelSpec(decision.spec).provider === 'scripted') return this.answer(rules, DECIDED_BY_RULES);

    const deadline = new AbortController();
    const timer = this.deps.clock.setTimer(deadlineMs, () => deadline.abort(new Error(`no answer within ${deadlineMs} ms`)));
    const onAbort = (): void => deadline.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const settled = await this.deps.completions.complete(
        CompleteRequest.fromPartial({ intent: 'classify', messages: intentQuestion(text, rules).map(toProtoMessage), maxOutputTokens: MAX_REPLY_TOKENS }),
        logger,
        deadline.signal,
      );
      const decided = parseIntentReply(settled.result.message.content);
      const spec = settled.servedBy;
      logger.info('goal classified by a model', { rulesIntent: rules.intent, rulesConfidence: rules.confidence, intent: decided.intent, spec });
      return this.answer({ ...decided, reason: `${spec}: ${decided.reason} (the classifier said ${rules.intent} at ${rules.confidence.toFixed(2)})` }, spec);
    } catch (err) {
      const why = err instanceof IntentReplyError ? `its reply was unreadable: ${err.message}` : deadline.signal.aborted && !(signal?.aborted ?? false) ? `it gave no answer within ${deadlineMs} ms` : `it failed: ${toMaestroError(err).message}`;
      logger.warn('a model was asked to classify a goal and did not decide; the classifier\'s answer stands', { spec: decision.spec, why });
      return this.answer({ ...rules, reason: `${rules.reason} (${decision.spec} was asked as the classifier was unsure, and ${why})` }, DECIDED_BY_RULES);
    } finally {
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private answer(decided: RulesAnswer, decidedBy: string): IntentAnswer {
    return { ...decided, workflow: workflowFor(this.deps.policy, decided.intent, decided.confidence), decidedBy };
  }
}
