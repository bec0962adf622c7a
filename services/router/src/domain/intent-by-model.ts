/**
 * Asking a model what a goal asks for, when the local classifier is not sure enough: the
 * conversation sent (pure text, no tools) and the reading of its reply. The model must answer
 * with one JSON object naming one of the task intents, its own confidence and a short reason;
 * anything else is a parse error and the rules' answer stands.
 */
import { intentList, isIntent, type Intent } from '@maestro/intent';
import type { ChatMessage } from '@maestro/llm';

/** The local classifier's answer, as the prompt shows it to the model. */
export interface RulesAnswer {
  intent: Intent;
  confidence: number;
  reason: string;
}

/** What the model decided. */
export interface ModelIntent {
  intent: Intent;
  /** The model's own stated confidence, in [0, 1] (not calibrated like the classifier's). */
  confidence: number;
  reason: string;
}

/** Why a reply could not be read as a {@link ModelIntent}. */
export class IntentReplyError extends Error {}

/** The longest goal text sent (the classifier reads the start; so does the model). */
export const MAX_GOAL_CHARS = 2_000;
/** The longest reason kept from a reply. */
const MAX_REASON_CHARS = 300;

const INTENT_MEANINGS: Record<Intent, string> = {
  plan: 'asks for a plan, design or proposal, not the change itself',
  code: 'asks for new code or a new feature',
  fix: 'asks to fix a bug, crash, error or wrong behaviour',
  refactor: 'asks to restructure, rename or clean up code without changing behaviour',
  test: 'asks for tests or test infrastructure',
  docs: 'asks for documentation, README, comments or changelog',
  explain: 'asks a question about how the code works, wanting an answer rather than a change',
  review: 'asks for a review of, or an opinion on, a change',
  ops: 'asks for build, CI, deployment, packaging or dependency work',
};

/** The messages that ask the model to classify `goal` (the rules' unsure answer shown as a hint). */
export function intentQuestion(goal: string, rules: RulesAnswer): ChatMessage[] {
  const meanings = intentList.map((intent) => `- ${intent}: ${INTENT_MEANINGS[intent]}`).join('\n');
  const system = [
    'You classify what a software task asks for. The intents:',
    meanings,
    'Answer with ONE JSON object and nothing else: {"intent": "<one of the intents>", "confidence": <0 to 1>, "reason": "<one short sentence>"}.',
  ].join('\n');
  const user = [
    `Task: ${goal.length > MAX_GOAL_CHARS ? `${goal.slice(0, MAX_GOAL_CHARS)} […]` : goal}`,
    `A keyword classifier guessed "${rules.intent}" with confidence ${rules.confidence.toFixed(2)} (${rules.reason}); it is often wrong on goals like this.`,
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** The first `{…}` object in `text` (models wrap JSON in fences or prose). */
function jsonObjectIn(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) throw new IntentReplyError('the reply holds no JSON object');
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch (err) {
    throw new IntentReplyError(`the reply's JSON does not parse: ${(err as Error).message}`);
  }
}

/** Reads the model's reply; throws {@link IntentReplyError} saying what is wrong with it. */
export function parseIntentReply(content: string): ModelIntent {
  const value = jsonObjectIn(content);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new IntentReplyError('the reply is not a JSON object');
  const { intent, confidence, reason } = value as Record<string, unknown>;
  if (typeof intent !== 'string' || !isIntent(intent.trim().toLowerCase())) {
    throw new IntentReplyError(`"intent" must be one of ${intentList.join(', ')}; got ${JSON.stringify(intent)}`);
  }
  if (typeof confidence !== 'number' || !Number.isFinite(confidence)) throw new IntentReplyError(`"confidence" must be a number from 0 to 1; got ${JSON.stringify(confidence)}`);
  const said = typeof reason === 'string' ? reason.trim().slice(0, MAX_REASON_CHARS) : '';
  return {
    intent: intent.trim().toLowerCase() as Intent,
    confidence: Math.min(1, Math.max(0, confidence)),
    reason: said === '' ? 'the model gave no reason' : said,
  };
}
