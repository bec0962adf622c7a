/**
 * Context condensing for the agent loop: the loop keeps the full history, and each turn the
 * {@link Condenser} derives the request from it, inside a budget from the model's context window
 * ({@link contextPolicyFor}), keeping the system prompt, the task and the {@link PinnedFacts}
 * verbatim and the prefix stable between condensations (prompt caching).
 *
 * @example
 * import { Condenser, PinnedFacts, contextPolicyFor } from '@maestro/agent';
 * const { policy, counting, tokenCounter } = contextPolicyFor('deepseek-chat');
 * const condenser = new Condenser({ policy, counting, tokenCounter });
 * const facts = new PinnedFacts();
 * facts.pin('preference', 'use pnpm');
 * const view = await condenser.view(history, facts, { tools: specs });
 * await model.complete({ messages: view.messages, tools: specs });
 * if (view.condensation) report({ kind: 'condensation', condensation: view.condensation });
 */
export {
  PinnedFactKinds,
  type PinnedFactKind,
  type PinnedFact,
  type ContextPolicy,
  type TokenCounting,
  type Summariser,
  type SummariseOptions,
  type ContextView,
} from './context-types.js';
export { contextPolicyFor, tokenCounterFor, TokenEncodings, WORKING_BUDGET_TOKENS, type TokenEncoding, type ModelContext } from './context-policy.js';
export { PinnedFacts, DEFAULT_PINNED_FACT_LIMITS, PINNED_FACT_MAX_CHARS, taskTitle, type PinnedFactsOptions, type PinnedFactLimit } from './pinned-facts.js';
export { renderPinnedFacts, PINNED_FACTS_HEADER } from './pinned-facts-message.js';
export { RuleSummariser, type RuleSummariserOptions } from './rule-summariser.js';
export { ModelSummariser, SUMMARY_INSTRUCTIONS, type ModelSummariserOptions } from './model-summariser.js';
export { Condenser, type CondenserOptions, type ViewOptions } from './condenser.js';
export { MessageTokens } from './message-tokens.js';
export { requestText, missingFacts } from './request-text.js';
export { cutHeadTail, cutMarker } from './head-tail.js';
