/**
 * Honest accuracy for the intent model: stratified k-fold cross-validation. Each goal lands in
 * one fold by a hash of its text (within its label, goals are ordered by hash and dealt round
 * robin), so the split is deterministic, balanced per label and independent of corpus order.
 * Every fold is scored by a model trained on the other folds only.
 */
import { createIntentClassifier } from './intent-classifier.js';
import { trainIntentModel, type LabelledText, type TrainOptions } from './intent-model.js';
import { intentList, type Intent } from './intents.js';

/** Accuracy overall and per label (recall: the share of a label's goals classified as it). */
export interface IntentAccuracy {
  readonly total: number;
  readonly correct: number;
  /** correct / total, in [0, 1]. */
  readonly accuracy: number;
  readonly perIntent: Readonly<Record<Intent, { readonly total: number; readonly correct: number; readonly accuracy: number }>>;
  /** Confusion counts: `confusion[expected][predicted]`. */
  readonly confusion: Readonly<Record<Intent, Readonly<Record<Intent, number>>>>;
  /** The goals classified wrongly, with what was predicted. */
  readonly errors: readonly { readonly text: string; readonly label: Intent; readonly predicted: Intent }[];
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash for fold assignment. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Assigns each case a fold in [0, k): stratified by label, ordered by text hash. */
export function assignFolds(cases: readonly LabelledText[], k: number): number[] {
  const folds = new Array<number>(cases.length).fill(0);
  for (const intent of intentList) {
    const members = cases
      .map((c, i) => ({ i, h: fnv1a(c.text), text: c.text, label: c.label }))
      .filter((c) => c.label === intent)
      .sort((a, b) => a.h - b.h || (a.text < b.text ? -1 : a.text > b.text ? 1 : a.i - b.i));
    members.forEach((m, n) => {
      folds[m.i] = n % k;
    });
  }
  return folds;
}

/** Scores predictions against labels. */
export function scoreIntents(
  cases: readonly LabelledText[],
  predicted: readonly Intent[],
): IntentAccuracy {
  const perIntent = {} as Record<Intent, { total: number; correct: number; accuracy: number }>;
  const confusion = {} as Record<Intent, Record<Intent, number>>;
  for (const a of intentList) {
    perIntent[a] = { total: 0, correct: 0, accuracy: 0 };
    confusion[a] = {} as Record<Intent, number>;
    for (const b of intentList) confusion[a][b] = 0;
  }
  const errors: { text: string; label: Intent; predicted: Intent }[] = [];
  let correct = 0;
  cases.forEach((c, i) => {
    const p = predicted[i]!;
    perIntent[c.label].total += 1;
    confusion[c.label][p] += 1;
    if (p === c.label) {
      perIntent[c.label].correct += 1;
      correct += 1;
    } else {
      errors.push({ text: c.text, label: c.label, predicted: p });
    }
  });
  for (const a of intentList) {
    const s = perIntent[a];
    s.accuracy = s.total === 0 ? 0 : s.correct / s.total;
  }
  return { total: cases.length, correct, accuracy: cases.length === 0 ? 0 : correct / cases.length, perIntent, confusion, errors };
}

/** Stratified k-fold cross-validation of {@link trainIntentModel} with `options`. */
export function crossValidate(
  cases: readonly LabelledText[],
  k = 5,
  options: TrainOptions = {},
): IntentAccuracy {
  const folds = assignFolds(cases, k);
  const predicted = new Array<Intent>(cases.length);
  for (let fold = 0; fold < k; fold += 1) {
    const train = cases.filter((_, i) => folds[i] !== fold);
    const classifier = createIntentClassifier(trainIntentModel(train, options));
    cases.forEach((c, i) => {
      if (folds[i] === fold) predicted[i] = classifier.classify(c.text).intent;
    });
  }
  return scoreIntents(cases, predicted);
}
