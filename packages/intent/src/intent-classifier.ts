/**
 * Classifying a goal: features → scores per intent → softmax → the best intent, its
 * probability as the confidence, and the features that pushed it there as the reason.
 */
import { invalidField, UnexpectedError } from '@maestro/runtime';
import { cues, extractFeatures, type TextFeatures } from './features.js';
import { MODEL_VERSION, softmaxInPlace, type IntentModel } from './intent-model.js';
import { intentList, isIntent, type Intent } from './intents.js';
import bundledModel from './model/intent-model.json' with { type: 'json' };

/** What the classifier says about one text. */
export interface IntentClassification {
  /** The most likely intent. */
  readonly intent: Intent;
  /** The model's probability of that intent, in [0, 1]; below ~0.5 the goal is ambiguous. */
  readonly confidence: number;
  /** Why, for a person: the strongest evidence, e.g. `starts with 'fix'; mentions a bug or a crash`. */
  readonly reason: string;
}

/** A classifier bound to one model; {@link createIntentClassifier} builds it. */
export interface IntentClassifier {
  /** Classifies one goal. Throws `UserError` (`INVALID_ARGUMENT`, field `text`) when it is blank. */
  classify(text: string): IntentClassification;
}

const cueLabels: ReadonlyMap<string, string> = new Map(cues.map((c) => [`cue:${c.name}`, c.label]));

const nonBlank = /\S/;

// How many pieces of evidence the reason names.
const REASON_ITEMS = 3;

// Words that carry weight in the model but mean nothing to a person reading a reason.
const quietWords: ReadonlySet<string> = new Set(
  'a an the to of in on at for from with and or but by as is are be it its this that these those there here i we you my our your me us so if then than also just not no can will would should could do doe does did have has had was were been'.split(' '),
);

/**
 * Builds a classifier over `model` (by default the one trained on the intent corpus and shipped
 * in this package). The weights are copied into typed arrays once, so a call only extracts
 * features and adds up a few dozen vectors.
 */
export function createIntentClassifier(model: IntentModel = defaultModel()): IntentClassifier {
  const k = model.intents.length;
  const weights = new Map<string, Float64Array>();
  for (const [feature, vector] of Object.entries(model.weights)) weights.set(feature, Float64Array.from(vector));
  const bias = Float64Array.from(model.bias);
  const intents = model.intents;

  return {
    classify(text: string): IntentClassification {
      if (typeof text !== 'string' || !nonBlank.test(text)) throw invalidField('text', 'must not be empty');
      const extracted = extractFeatures(text);
      const scores = Float64Array.from(bias);
      for (const f of extracted.features) {
        const v = weights.get(f);
        if (v) for (let j = 0; j < k; j += 1) scores[j] = scores[j]! + v[j]!;
      }
      softmaxInPlace(scores);
      let best = 0;
      for (let j = 1; j < k; j += 1) if (scores[j]! > scores[best]!) best = j;
      return {
        intent: intents[best]!,
        confidence: Math.round(scores[best]! * 1000) / 1000,
        reason: explain(extracted, weights, best, k),
      };
    },
  };
}

/** Names the features that pushed hardest towards intent `best` relative to the others. */
function explain(extracted: TextFeatures, weights: ReadonlyMap<string, Float64Array>, best: number, k: number): string {
  const evidence: { feature: string; push: number }[] = [];
  for (const f of extracted.features) {
    const v = weights.get(f);
    if (!v) continue;
    let mean = 0;
    for (let j = 0; j < k; j += 1) mean += v[j]!;
    mean /= k;
    const push = v[best]! - mean;
    if (push > 0.05) evidence.push({ feature: f, push });
  }
  evidence.sort((a, b) => b.push - a.push || (a.feature < b.feature ? -1 : 1));
  const parts: string[] = [];
  for (const { feature } of evidence) {
    const part = describe(feature, extracted);
    if (part !== undefined && !parts.includes(part)) parts.push(part);
    if (parts.length === REASON_ITEMS) break;
  }
  return parts.length > 0 ? parts.join('; ') : 'no strong cue; the most common intent for such wording';
}

function describe(feature: string, extracted: TextFeatures): string | undefined {
  const colon = feature.indexOf(':');
  const kind = feature.slice(0, colon);
  const value = feature.slice(colon + 1);
  const word = (s: string): string => extracted.surface.get(s) ?? s;
  switch (kind) {
    case 'cue':
      return cueLabels.get(feature);
    case 'lead':
      return `starts with '${extracted.lead ?? value}'`;
    case 'w':
      return quietWords.has(value) ? undefined : `mentions '${word(value)}'`;
    case 'b': {
      const pair = value.split('_');
      return pair.every((p) => quietWords.has(p)) ? undefined : `says '${pair.map(word).join(' ')}'`;
    }
    case 'shape':
      return value === 'question' ? 'ends with a question mark' : undefined;
    default:
      return undefined;
  }
}

/** Checks that a parsed JSON value is a model this code can use. */
export function toIntentModel(value: unknown): IntentModel {
  const model = value as Partial<IntentModel> | null;
  const ok =
    model !== null &&
    typeof model === 'object' &&
    model.version === MODEL_VERSION &&
    Array.isArray(model.intents) &&
    model.intents.length === intentList.length &&
    model.intents.every(isIntent) &&
    Array.isArray(model.bias) &&
    model.bias.length === model.intents.length &&
    typeof model.weights === 'object' &&
    model.weights !== null;
  if (!ok) {
    throw new UnexpectedError(
      'INTENT_MODEL_INVALID',
      `intent model is not version ${MODEL_VERSION} for intents ${intentList.join(', ')}: retrain it with packages/intent/scripts/train.mjs`,
    );
  }
  return model as IntentModel;
}

let cachedModel: IntentModel | undefined;

/** The model shipped with this package (trained on the whole intent corpus). */
export function defaultModel(): IntentModel {
  cachedModel ??= toIntentModel(bundledModel);
  return cachedModel;
}

let defaultClassifier: IntentClassifier | undefined;

/**
 * Classifies a task goal with the shipped model: locally, deterministically, in microseconds.
 * Throws `UserError` (`INVALID_ARGUMENT`, field `text`) for empty or blank text.
 *
 * @example
 * classifyIntent('fix the crash when the config file is missing');
 * // → { intent: 'fix', confidence: 0.914,
 * //     reason: 'asks to fix, handle or prevent something; mentions a bug or a crash; describes something not working' }
 */
export function classifyIntent(text: string): IntentClassification {
  defaultClassifier ??= createIntentClassifier();
  return defaultClassifier.classify(text);
}
