/**
 * A model's context budget: its window, looked up by model family, and the condenser's
 * thresholds derived from it, all in one place. Also how its tokens are counted: exactly for
 * OpenAI models (their published BPE tables, `o200k_base` or `cl100k_base`), as an `o200k_base`
 * estimate for the others (DeepSeek and Gemini publish no BPE table we can load offline).
 */
import { createTokenCounter, o200kCounter, type TokenCounter } from '@maestro/llm';
import { invalidField } from '@maestro/runtime';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import type { ContextPolicy, TokenCounting } from './context-types.js';

/** The BPE tables we count with. */
export const TokenEncodings = {
  o200k: 'o200k_base',
  cl100k: 'cl100k_base',
} as const;
export type TokenEncoding = (typeof TokenEncodings)[keyof typeof TokenEncodings];

/** One row of the window table. */
interface ModelFamily {
  /** Matched against the model name without its provider prefix (`deepseek:` …), lower-cased. */
  match: RegExp;
  windowTokens: number;
  /** The model's own tokenizer, when it is a table we have (OpenAI's); counting is then exact. */
  encoding?: TokenEncoding;
}

/**
 * Context windows by model family, as the providers document them (late 2025). First match
 * wins, so the more specific rows come first.
 */
const MODEL_FAMILIES: readonly ModelFamily[] = [
  // DeepSeek V3.x, chat and reasoner (thinking) modes alike.
  { match: /^deepseek-(chat|reasoner|v3)/, windowTokens: 128_000 },
  { match: /^gemini-2\./, windowTokens: 1_048_576 },
  { match: /^gpt-4\.1/, windowTokens: 1_047_576, encoding: TokenEncodings.o200k },
  { match: /^gpt-4o/, windowTokens: 128_000, encoding: TokenEncodings.o200k },
  { match: /^gpt-5/, windowTokens: 400_000, encoding: TokenEncodings.o200k },
  { match: /^o[134](-|$)/, windowTokens: 200_000, encoding: TokenEncodings.o200k },
  { match: /^gpt-4-turbo/, windowTokens: 128_000, encoding: TokenEncodings.cl100k },
  { match: /^gpt-4(-\d{4})?$/, windowTokens: 8_192, encoding: TokenEncodings.cl100k },
  { match: /^gpt-3\.5-turbo/, windowTokens: 16_385, encoding: TokenEncodings.cl100k },
];

/** The window assumed for a model not in the table: small, so an unknown model is never overfilled. */
const UNKNOWN_WINDOW_TOKENS = 32_000;

/**
 * The derived defaults, in one place. Why these numbers:
 * - `triggerTokens` is far below the window on purpose. A request pays for every token it
 *   carries, every turn: a 60-turn subtask whose history grows to 25k tokens sends some 750k
 *   input tokens if nothing is condensed. And a model uses a long context worse than a short
 *   one (facts in the middle of it get missed), while the next step of an agent mostly needs
 *   the task, the facts pinned from it, what was done so far, and the last few turns whole.
 *   So the request is condensed once it passes a working budget of
 *   {@link WORKING_BUDGET_TOKENS} (a quarter of the usable window if that is smaller: small
 *   windows), whatever the window: a bigger window is room for an exceptional turn (a long
 *   file, a long test log), not a reason to resend everything. The figure was measured with
 *   `bench/context` on real DeepSeek and Aider transcripts: at 6.5k each transcript of 30
 *   turns or more sends at most half the input tokens of the whole history (at 7k two send
 *   more: a run whose history grows slowly spends a third of its turns below the trigger), and
 *   every fact the corpus lists survives (at 5.5k one result line of an old script run is lost
 *   from the summary); each 1k more costs about 1–2% of the input tokens saved (see
 *   bench/README.md, "context"). It holds fewer turns than the 9k it replaces, though not by
 *   as much as the figures say: replies are sent without the commands their text repeats.
 * - `targetTokens` (45% of the trigger) is what a condensation shrinks the request to: the
 *   system prompt, the task, the pinned facts, the summary and the last turns. The gap up to
 *   the trigger is what new turns fill before the next condensation; condensing in such chunks
 *   keeps the request's prefix byte-identical in between, so provider prompt caches hit.
 * - `summaryTokens` (a quarter of the trigger): room for a summary that keeps detail of the
 *   latest older turns and one line each for the rest.
 * - `reserveOutputTokens`: room for the reply, an eighth of the window, at most 16k.
 * - `keepRecentObservations`: the last 3 tool results stay whole, since the next step usually
 *   depends on them; older ones still kept verbatim are cut to `maxObservationTokens` (600) of
 *   head and tail.
 */
export const WORKING_BUDGET_TOKENS = 6_500;
const TARGET_SHARE_OF_TRIGGER = 0.45;
const SUMMARY_SHARE_OF_TRIGGER = 0.25;
const RESERVE_SHARE_OF_WINDOW = 1 / 8;
const RESERVE_MAX_TOKENS = 16_384;
const TRIGGER_MAX_SHARE_OF_USABLE = 1 / 4;
const KEEP_RECENT_OBSERVATIONS = 3;
const MAX_OBSERVATION_TOKENS = 600;

/** The policy for `model`, how its tokens are counted, and the counter to count them with. */
export interface ModelContext {
  policy: ContextPolicy;
  /** `exact` when `tokenCounter` is the model's own tokenizer; `estimate` otherwise. */
  counting: TokenCounting;
  /** The tokenizer used: the model's own for OpenAI models, `o200k_base` as an estimate otherwise. */
  encoding: TokenEncoding;
  tokenCounter: TokenCounter;
}

let cl100kCounter: TokenCounter | undefined;

/** The counter for `encoding` (the `cl100k_base` one is built on first use). */
export function tokenCounterFor(encoding: TokenEncoding): TokenCounter {
  if (encoding === TokenEncodings.o200k) return o200kCounter;
  cl100kCounter ??= createTokenCounter(cl100kBase);
  return cl100kCounter;
}

/** The model name without a provider prefix, lower-cased: `deepseek:deepseek-chat` → `deepseek-chat`. */
function bareModelName(model: string): string {
  const name = model.trim().toLowerCase();
  const colon = name.indexOf(':');
  return colon >= 0 ? name.slice(colon + 1) : name;
}

/**
 * The policy for a window of `windowTokens`: each value as overridden, or derived from the ones
 * before it (window → reserve → trigger → target → summary), so overriding the trigger alone
 * moves the target and the summary with it.
 */
function derivePolicy(windowTokens: number, overrides: Partial<ContextPolicy>): ContextPolicy {
  const reserveOutputTokens = overrides.reserveOutputTokens ?? Math.min(RESERVE_MAX_TOKENS, Math.floor(windowTokens * RESERVE_SHARE_OF_WINDOW));
  const usable = windowTokens - reserveOutputTokens;
  const triggerTokens = overrides.triggerTokens ?? Math.min(WORKING_BUDGET_TOKENS, Math.floor(usable * TRIGGER_MAX_SHARE_OF_USABLE));
  const targetTokens = overrides.targetTokens ?? Math.floor(triggerTokens * TARGET_SHARE_OF_TRIGGER);
  return {
    windowTokens,
    reserveOutputTokens,
    triggerTokens,
    targetTokens,
    summaryTokens: overrides.summaryTokens ?? Math.floor(triggerTokens * SUMMARY_SHARE_OF_TRIGGER),
    keepRecentObservations: overrides.keepRecentObservations ?? KEEP_RECENT_OBSERVATIONS,
    maxObservationTokens: overrides.maxObservationTokens ?? MAX_OBSERVATION_TOKENS,
  };
}

/** Throws INVALID_ARGUMENT naming the field when the policy cannot work. */
function validatePolicy(policy: ContextPolicy): void {
  for (const [field, value] of Object.entries(policy)) {
    if (!Number.isInteger(value) || (value as number) < 0) throw invalidField(field, `must be a whole number ≥ 0, got ${String(value)}`);
  }
  if (policy.windowTokens <= 0) throw invalidField('windowTokens', `must be positive, got ${policy.windowTokens}`);
  if (policy.reserveOutputTokens >= policy.windowTokens) {
    throw invalidField('reserveOutputTokens', `must be below windowTokens (${policy.windowTokens}), got ${policy.reserveOutputTokens}`);
  }
  if (policy.triggerTokens <= 0 || policy.triggerTokens > policy.windowTokens - policy.reserveOutputTokens) {
    throw invalidField('triggerTokens', `must be positive and at most windowTokens − reserveOutputTokens (${policy.windowTokens - policy.reserveOutputTokens}), got ${policy.triggerTokens}`);
  }
  if (policy.targetTokens <= 0 || policy.targetTokens >= policy.triggerTokens) {
    throw invalidField('targetTokens', `must be positive and below triggerTokens (${policy.triggerTokens}), got ${policy.targetTokens}`);
  }
  if (policy.summaryTokens <= 0 || policy.summaryTokens >= policy.targetTokens) {
    throw invalidField('summaryTokens', `must be positive and below targetTokens (${policy.targetTokens}), got ${policy.summaryTokens}`);
  }
  if (policy.maxObservationTokens <= 0) throw invalidField('maxObservationTokens', `must be positive, got ${policy.maxObservationTokens}`);
}

/**
 * The context policy for `model` (`deepseek-chat`, `openai:gpt-4o` …): its window from the
 * table (an unknown model gets a conservative {@link UNKNOWN_WINDOW_TOKENS}), the derived
 * defaults, then `overrides`. Throws INVALID_ARGUMENT naming the field for a policy that cannot
 * work (a target not below the trigger, a trigger past the usable window …).
 *
 * @example
 * const { policy, counting, tokenCounter } = contextPolicyFor('deepseek-chat');
 * policy.triggerTokens; // 6500
 * counting;             // 'estimate'
 */
export function contextPolicyFor(model: string, overrides: Partial<ContextPolicy> = {}): ModelContext {
  const name = bareModelName(model);
  const family = MODEL_FAMILIES.find((row) => row.match.test(name));
  const windowTokens = overrides.windowTokens ?? family?.windowTokens ?? UNKNOWN_WINDOW_TOKENS;
  const policy = derivePolicy(windowTokens, overrides);
  validatePolicy(policy);
  const encoding = family?.encoding ?? TokenEncodings.o200k;
  return {
    policy,
    counting: family?.encoding !== undefined ? 'exact' : 'estimate',
    encoding,
    tokenCounter: tokenCounterFor(encoding),
  };
}
