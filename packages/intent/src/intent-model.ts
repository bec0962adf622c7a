/**
 * The intent model: a multinomial logistic regression over the features of `features.ts`,
 * trained from labelled goals with the hand-written cue weights as its prior. Training is pure
 * and deterministic (zero start, full-batch steps, fixed iteration count), so the same cases
 * always give the same model, byte for byte once serialised.
 */
import { cuePriors, extractFeatures } from './features.js';
import { intentList, type Intent } from './intents.js';

/** A trained model as stored in `model/intent-model.json`. */
export interface IntentModel {
  /** Format version; bumped when the feature layer changes so a stale model is noticed. */
  readonly version: number;
  /** The intents, in the order of every weight vector. */
  readonly intents: readonly Intent[];
  /** One bias per intent. */
  readonly bias: readonly number[];
  /** Weight vector per feature (cue priors already added). Features absent here weigh 0. */
  readonly weights: Readonly<Record<string, readonly number[]>>;
  /** How the model was made, for people reading the JSON. */
  readonly trainedOn?: { readonly cases: number; readonly perIntent: Readonly<Record<string, number>> };
}

/** One labelled goal. */
export interface LabelledText {
  readonly text: string;
  readonly label: Intent;
}

/** Knobs of {@link trainIntentModel}; the defaults are the ones cross-validation chose. */
export interface TrainOptions {
  /**
   * L2 strength pulling every weight towards its prior (the cue weight, or 0 for words).
   * @default 0.05
   */
  l2?: number;
  /** @default 300 */
  iterations?: number;
  /** @default 0.5 */
  learningRate?: number;
  /**
   * A word feature must occur in at least this many training goals to get a weight; rarer
   * ones are memorisation, not evidence.
   * @default 2
   */
  minCount?: number;
  /**
   * Weight each goal by the inverse frequency of its label, so rare intents (review, plan)
   * are not drowned by common ones (code).
   * @default true
   */
  balanceClasses?: boolean;
  /** Use the hand-written cue weights as the prior. @default true */
  cuePrior?: boolean;
  /** Learn weights at all (false = cues only: the rules-only baseline). @default true */
  learn?: boolean;
}

/** The serialisation format version this code writes and reads. */
export const MODEL_VERSION = 1;

const DECIMALS = 1e4;

/** Trains a model on labelled goals. Deterministic: same input, same model. */
export function trainIntentModel(cases: readonly LabelledText[], options: TrainOptions = {}): IntentModel {
  const l2 = options.l2 ?? 0.05;
  const iterations = options.iterations ?? 300;
  const learningRate = options.learningRate ?? 0.5;
  const minCount = options.minCount ?? 2;
  const balance = options.balanceClasses ?? true;
  const usePrior = options.cuePrior ?? true;
  const learn = options.learn ?? true;
  const intents = intentList;
  const k = intents.length;

  // Feature index: cues always, words when frequent enough.
  const docs = cases.map((c) => extractFeatures(c.text).features);
  const counts = new Map<string, number>();
  for (const features of docs) for (const f of features) counts.set(f, (counts.get(f) ?? 0) + 1);
  const priors = usePrior ? cuePriors(intents) : new Map<string, number[]>();
  const names = [...counts.keys()]
    .filter((f) => f.startsWith('cue:') || (counts.get(f) ?? 0) >= minCount)
    .sort();
  for (const f of priors.keys()) if (!counts.has(f)) names.push(f);
  const index = new Map(names.map((f, i) => [f, i]));
  const rows = docs.map((features) =>
    features.map((f) => index.get(f)).filter((i): i is number => i !== undefined),
  );
  const labels = cases.map((c) => intents.indexOf(c.label));

  const perIntent: Record<string, number> = {};
  for (const intent of intents) perIntent[intent] = 0;
  for (const c of cases) perIntent[c.label] = (perIntent[c.label] ?? 0) + 1;
  const sampleWeight = labels.map((y) => {
    if (!balance) return 1;
    const n = perIntent[intents[y]!] ?? 1;
    return cases.length / (k * n);
  });

  const prior = new Float64Array(names.length * k);
  names.forEach((f, i) => {
    const p = priors.get(f);
    if (p) for (let j = 0; j < k; j += 1) prior[i * k + j] = p[j]!;
  });
  const weights = Float64Array.from(prior);
  const bias = new Float64Array(k);

  if (learn && cases.length > 0) {
    // Full-batch gradient descent with Adagrad step sizes: no randomness, no tuning per run.
    const gradW = new Float64Array(weights.length);
    const gradB = new Float64Array(k);
    const accW = new Float64Array(weights.length);
    const accB = new Float64Array(k);
    const probs = new Float64Array(k);
    const total = sampleWeight.reduce((a, b) => a + b, 0);
    for (let it = 0; it < iterations; it += 1) {
      gradW.fill(0);
      gradB.fill(0);
      for (let n = 0; n < rows.length; n += 1) {
        const row = rows[n]!;
        scoreInto(probs, row, weights, bias, k);
        softmaxInPlace(probs);
        const y = labels[n]!;
        const sw = sampleWeight[n]! / total;
        for (let j = 0; j < k; j += 1) {
          const g = (probs[j]! - (j === y ? 1 : 0)) * sw;
          gradB[j] = gradB[j]! + g;
          for (const i of row) gradW[i * k + j] = gradW[i * k + j]! + g;
        }
      }
      for (let i = 0; i < weights.length; i += 1) {
        const g = gradW[i]! + l2 * (weights[i]! - prior[i]!);
        accW[i] = accW[i]! + g * g;
        if (accW[i]! > 0) weights[i] = weights[i]! - (learningRate * g) / Math.sqrt(accW[i]! + 1e-12);
      }
      for (let j = 0; j < k; j += 1) {
        const g = gradB[j]!;
        accB[j] = accB[j]! + g * g;
        if (accB[j]! > 0) bias[j] = bias[j]! - (learningRate * g) / Math.sqrt(accB[j]! + 1e-12);
      }
    }
  }

  const round = (x: number): number => Math.round(x * DECIMALS) / DECIMALS || 0;
  const out: Record<string, number[]> = {};
  names.forEach((f, i) => {
    const vector = Array.from(weights.subarray(i * k, i * k + k), round);
    if (vector.some((x) => x !== 0)) out[f] = vector;
  });
  return {
    version: MODEL_VERSION,
    intents: [...intents],
    bias: Array.from(bias, round),
    weights: out,
    trainedOn: { cases: cases.length, perIntent },
  };
}

function scoreInto(
  out: Float64Array,
  row: readonly number[],
  weights: Float64Array,
  bias: Float64Array,
  k: number,
): void {
  for (let j = 0; j < k; j += 1) out[j] = bias[j]!;
  for (const i of row) for (let j = 0; j < k; j += 1) out[j] = out[j]! + weights[i * k + j]!;
}

/** Turns scores into probabilities in place (max-subtracted, so large scores cannot overflow). */
export function softmaxInPlace(scores: Float64Array): void {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  let sum = 0;
  for (let j = 0; j < scores.length; j += 1) {
    scores[j] = Math.exp(scores[j]! - max);
    sum += scores[j]!;
  }
  for (let j = 0; j < scores.length; j += 1) scores[j] = scores[j]! / sum;
}
