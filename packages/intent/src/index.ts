/**
 * `@maestro/intent`: what a task goal asks for — `plan`, `code`, `fix`, `refactor`, `test`,
 * `docs`, `explain`, `review` or `ops` — with a confidence and a reason, decided locally and
 * deterministically (no model service, no network) in microseconds. The intent picks the
 * workflow definition and the model tier; the router's `ClassifyIntent` RPC and `maestro intent`
 * both call {@link classifyIntent}.
 *
 * @example
 * import { classifyIntent } from '@maestro/intent';
 * const { intent, confidence, reason } = classifyIntent('add a --dry-run option to the deploy command');
 * // intent 'code', confidence 0.577,
 * // reason "asks to add something; asks for a new option, command or feature; mentions 'add'"
 */
export { Intents, intentList, isIntent, type Intent } from './intents.js';
export {
  classifyIntent,
  createIntentClassifier,
  defaultModel,
  toIntentModel,
  type IntentClassification,
  type IntentClassifier,
} from './intent-classifier.js';
export {
  trainIntentModel,
  MODEL_VERSION,
  type IntentModel,
  type LabelledText,
  type TrainOptions,
} from './intent-model.js';
export {
  crossValidate,
  assignFolds,
  scoreIntents,
  type IntentAccuracy,
} from './cross-validation.js';
export { extractFeatures, cues, type Cue, type TextFeatures } from './features.js';
