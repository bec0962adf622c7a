/**
 * The intent classifier against the intent corpus (`shared/corpora/intents/intents.json`, read
 * in place): stratified 5-fold cross-validation — every goal is classified by a model trained
 * on the other four folds only — printed per label. The corpus is a sample of a larger labelled
 * set whose rest judges the classifier, so the cross-validated numbers are the honest estimate;
 * the full-corpus (train = test) numbers are printed too, labelled as such, and are not.
 *
 * The aim is 85% overall with no label under 70%. What this approach reaches on the
 * sample is lower (see the package README); the assertions guard that level with a small
 * margin, and the aim is printed next to the result so a shortfall is never hidden.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossValidate, type IntentAccuracy } from '../src/cross-validation.js';
import { createIntentClassifier, defaultModel } from '../src/intent-classifier.js';
import { trainIntentModel, type LabelledText } from '../src/intent-model.js';
import { intentList, isIntent } from '../src/intents.js';

const corpus = JSON.parse(
  readFileSync(join(__dirname, '../../../../shared/corpora/intents/intents.json'), 'utf8'),
) as { labels: Record<string, string>; cases: { text: string; label: string; source: string; label_by: string }[] };

const cases: LabelledText[] = corpus.cases.map((c) => {
  if (!isIntent(c.label)) throw new Error(`unknown label ${c.label} in the intent corpus`);
  return { text: c.text, label: c.label };
});

const AIM = { overall: 0.85, perLabel: 0.7 };
// What the classifier reaches on this split (79.1% overall; 77.8% averaged over ten random
// splits; lowest label docs at 65%) less a margin, so a regression fails while the shortfall
// against AIM stays visible.
const FLOOR = { overall: 0.76, perLabel: 0.55 };

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function table(title: string, score: IntentAccuracy): string {
  const rows = intentList.map((intent) => {
    const s = score.perIntent[intent];
    const flag = s.accuracy < AIM.perLabel ? '  < aim' : '';
    return `  ${intent.padEnd(9)} ${pct(s.accuracy).padStart(6)}  ${String(s.correct).padStart(3)}/${String(s.total).padEnd(3)}${flag}`;
  });
  return [
    `${title}: ${pct(score.accuracy)} (${score.correct}/${score.total}); aim ${pct(AIM.overall)} overall, every label ≥ ${pct(AIM.perLabel)}`,
    '  label     recall   right/total',
    ...rows,
  ].join('\n');
}

describe('intent corpus', () => {
  const cv = crossValidate(cases, 5);

  it('prints the cross-validated accuracy per label and reaches the guarded level', () => {
    const confusion = intentList
      .map((a) => `  ${a.padEnd(9)}${intentList.map((b) => String(cv.confusion[a][b]).padStart(5)).join('')}`)
      .join('\n');
    console.log(
      `${table('5-fold stratified cross-validation (held-out folds)', cv)}\n\n` +
        `confusion (rows: corpus label, columns: predicted)\n  ${' '.repeat(9)}${intentList.map((i) => i.slice(0, 4).padStart(5)).join('')}\n${confusion}`,
    );
    expect(cv.accuracy).toBeGreaterThanOrEqual(FLOOR.overall);
    for (const intent of intentList) {
      const accuracy = cv.perIntent[intent].accuracy;
      expect({ intent, accuracy, reachesFloor: accuracy >= FLOOR.perLabel }).toMatchObject({ intent, reachesFloor: true });
    }
  });

  it('prints the full-corpus accuracy of the shipped model (train = test, not an estimate)', () => {
    const classifier = createIntentClassifier();
    let correct = 0;
    const per = new Map<string, [number, number]>();
    for (const c of cases) {
      const ok = classifier.classify(c.text).intent === c.label;
      if (ok) correct += 1;
      const [r, t] = per.get(c.label) ?? [0, 0];
      per.set(c.label, [r + (ok ? 1 : 0), t + 1]);
    }
    console.log(
      `full corpus, shipped model (TRAINED ON THESE CASES — not a measure of generalisation): ${pct(correct / cases.length)}\n` +
        intentList.map((i) => `  ${i.padEnd(9)} ${pct((per.get(i)?.[0] ?? 0) / (per.get(i)?.[1] ?? 1)).padStart(6)}`).join('\n'),
    );
    expect(correct / cases.length).toBeGreaterThan(cv.accuracy);
  });

  it('ships the model that training on the corpus produces (retrain with scripts/train.mjs)', () => {
    const fresh = trainIntentModel(cases);
    const shipped = defaultModel();
    expect(Object.keys(shipped.weights).sort()).toEqual(Object.keys(fresh.weights).sort());
    // Weights are stored to 4 decimals; allow a last-digit difference from floating point.
    const drift = (a: readonly number[], b: readonly number[] | undefined): number =>
      Math.max(...a.map((x, i) => Math.abs(x - (b?.[i] ?? Infinity))));
    expect(drift(shipped.bias, fresh.bias)).toBeLessThanOrEqual(2e-4);
    for (const [feature, vector] of Object.entries(shipped.weights)) {
      expect({ feature, drift: drift(vector, fresh.weights[feature]) <= 2e-4 }).toEqual({ feature, drift: true });
    }
  });
});
