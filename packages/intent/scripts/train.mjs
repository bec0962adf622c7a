#!/usr/bin/env node
/**
 * Trains the shipped intent model on the whole intent corpus and writes
 * `src/model/intent-model.json`. Run after changing the feature layer or the corpus:
 *
 *   pnpm --filter @maestro/intent run train      # builds the package, then runs this
 *
 * Reads the corpus in place (`../shared/corpora/intents/intents.json` beside the checkout, or
 * the path in the first argument), prints the 5-fold cross-validated accuracy first so the
 * number that matters is seen before the model is written, and writes nothing else. The output
 * is deterministic: the same corpus and code give the same file, byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// The compiled package (Node 20 cannot run .ts): `tsc -b packages/intent` first.
import { crossValidate, intentList, isIntent, trainIntentModel } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const corpusPath = resolve(process.argv[2] ?? resolve(here, '../../../../shared/corpora/intents/intents.json'));
const outPath = resolve(here, '../src/model/intent-model.json');

const corpus = JSON.parse(readFileSync(corpusPath, 'utf8'));
const cases = corpus.cases.map((c, i) => {
  if (typeof c.text !== 'string' || !isIntent(c.label)) throw new Error(`${corpusPath}: case ${i} has no text or an unknown label`);
  return { text: c.text, label: c.label };
});

const cv = crossValidate(cases, 5);
const pct = (x) => `${(x * 100).toFixed(1)}%`;
console.log(`5-fold cross-validated accuracy on ${cases.length} goals: ${pct(cv.accuracy)}`);
for (const intent of intentList) {
  const s = cv.perIntent[intent];
  console.log(`  ${intent.padEnd(9)} ${pct(s.accuracy).padStart(6)}  (${s.correct}/${s.total})`);
}

const model = trainIntentModel(cases);
// One feature per line, so a retrain shows up in a diff as the features whose weights moved.
const { weights, ...head } = model;
const lines = Object.entries(weights).map(([f, v]) => `    ${JSON.stringify(f)}: ${JSON.stringify(v)}`);
const headJson = JSON.stringify(head, null, 2).replace(/\n}$/, '');
writeFileSync(outPath, `${headJson},\n  "weights": {\n${lines.join(',\n')}\n  }\n}\n`);
console.log(`wrote ${outPath}: ${Object.keys(model.weights).length} weighted features`);
