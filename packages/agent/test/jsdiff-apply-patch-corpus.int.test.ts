/**
 * jsdiff's applyPatch cases (`shared/corpora/edits/jsdiff_applyPatch_cases.json`, 72 cases from
 * kpdecker/jsdiff test/patch/apply.js): each source + patch + options must give exactly the
 * expected text, or `false` where the case expects the patch to be rejected, or throw where it
 * expects a throw. Read in place, never copied.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyPatch, parseUnifiedDiff, type ApplyPatchOptions, type FilePatch } from '../src/index.js';

interface StructuredPatch {
  oldFileName: string;
  newFileName: string;
  hunks: { oldStart: number; oldLines: number; newStart: number; newLines: number; lines: string[] }[];
}
interface JsdiffCase {
  test: string;
  source: string;
  patch: string | StructuredPatch;
  options?: { fuzzFactor?: number; autoConvertLineEndings?: boolean; compareLine?: string };
  expected?: string | false;
  expectedThrow?: string;
  note?: string;
}

const corpus = JSON.parse(
  readFileSync(join(__dirname, '../../../../shared/corpora/edits/jsdiff_applyPatch_cases.json'), 'utf8'),
) as { cases: JsdiffCase[] };

// The same single-file patch the upstream tests pass with invalid options / as an array.
const LINE4_PATCH =
  'Index: test\n===================================================================\n--- test\theader1\n+++ test\theader2\n@@ -1,3 +1,4 @@\n line2\n line3\n+line4\n line5\n';

/** The upstream test's compareLine: accepts every line, checking the arguments it is given on line 2. */
function upstreamCompareLine(violations: string[]): NonNullable<ApplyPatchOptions['compareLine']> {
  return (lineNumber, line, operation, patchContent) => {
    if (typeof lineNumber !== 'number') violations.push(`lineNumber ${String(lineNumber)}`);
    if (lineNumber === 2 && (line !== 'line2' || operation !== ' ' || patchContent !== 'line3')) {
      violations.push(`line 2: ${JSON.stringify({ line, operation, patchContent })}`);
    }
    return true;
  };
}

function toFilePatch(patch: StructuredPatch): FilePatch {
  return { oldPath: patch.oldFileName, newPath: patch.newFileName, hunks: patch.hunks.map((hunk) => ({ ...hunk, lines: [...hunk.lines] })) };
}

/** Runs one case; returns what went wrong, or undefined when the case passes. */
function runCase(testCase: JsdiffCase, index: number): string | undefined {
  if (testCase.expectedThrow !== undefined) {
    // The corpus cannot hold the inputs of these three (an array of two patches; fuzzFactor -1 and
    // 1.5 on the line-4 patch), so they are rebuilt here as the upstream tests write them.
    const attempt =
      testCase.expectedThrow.startsWith('applyPatch only works')
        ? () => applyPatch('', `${LINE4_PATCH}${LINE4_PATCH}`)
        : () => applyPatch('line2\nline3\nline5\n', LINE4_PATCH, { fuzzFactor: index === 70 ? -1 : 1.5 });
    try {
      attempt();
      return `expected a throw containing ${JSON.stringify(testCase.expectedThrow)}`;
    } catch (err) {
      const message = (err as Error).message;
      return message.includes(testCase.expectedThrow) ? undefined : `threw ${JSON.stringify(message)}`;
    }
  }
  const violations: string[] = [];
  const options: ApplyPatchOptions = {};
  if (testCase.options?.fuzzFactor !== undefined) options.fuzzFactor = testCase.options.fuzzFactor;
  if (testCase.options?.autoConvertLineEndings !== undefined) options.autoConvertLineEndings = testCase.options.autoConvertLineEndings;
  if (testCase.options?.compareLine !== undefined) options.compareLine = upstreamCompareLine(violations);
  const patch = typeof testCase.patch === 'string' ? testCase.patch : toFilePatch(testCase.patch);
  const outcomes: (string | false)[] = [applyPatch(testCase.source, patch, options)];
  if (typeof testCase.patch === 'string') {
    // "should accept parsed patches": the parsed form (and a one-element array of it) must do the same.
    const parsed = parseUnifiedDiff(testCase.patch);
    if (!parsed.ok) return `parse failed: ${parsed.error.message}`;
    outcomes.push(applyPatch(testCase.source, parsed.value, options));
  }
  for (const outcome of outcomes) {
    if (outcome !== testCase.expected) return `got ${JSON.stringify(outcome)}, expected ${JSON.stringify(testCase.expected)}`;
  }
  return violations.length > 0 ? `compareLine saw ${violations.join('; ')}` : undefined;
}

describe('jsdiff applyPatch corpus', () => {
  it('has the 72 cases the README promises', () => {
    expect(corpus.cases).toHaveLength(72);
  });

  it.each(corpus.cases.map((testCase, index) => [index, testCase.test, testCase] as const))('case %i: %s', (index, _name, testCase) => {
    expect(runCase(testCase, index)).toBeUndefined();
  });

  it('passes every case (summary)', () => {
    const failures = corpus.cases.map((testCase, index) => [index, runCase(testCase, index)] as const).filter(([, failure]) => failure !== undefined);
    console.log(`jsdiff applyPatch corpus: ${corpus.cases.length - failures.length}/${corpus.cases.length} cases pass`);
    expect(failures).toEqual([]);
  });
});
