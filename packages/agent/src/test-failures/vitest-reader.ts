/**
 * Reads Vitest: `FAIL  file > Suite > name`, and `FAIL  file [ file ]` for a file that failed to
 * load (named `file`). A section (one run, from `RUN v…` to `Duration`) is read only when its
 * `Tests  N failed` and `Test Files  N failed` summary and `Failed Suites N` header agree with
 * the failures it names.
 */
import { countIn, type FormatReading, type RunnerSection } from './section.js';

/** The sections of Vitest output in `lines`, or why they cannot be read. */
export function readVitest(lines: readonly string[]): FormatReading {
  const sections: RunnerSection[] = [];
  const starts = lines.flatMap((line, i) => (/^\s*RUN\s+v\d+\.\d+/.test(line) ? [i] : []));
  for (const [k, start] of starts.entries()) {
    const limit = (starts[k + 1] ?? lines.length) - 1;
    const testNames: string[] = [];
    const suiteNames: string[] = [];
    let failedSuitesHeader = 0;
    let tests: string | undefined;
    let files: string | undefined;
    let end = -1;
    for (let i = start + 1; i <= limit; i++) {
      const line = lines[i] ?? '';
      const text = line.trim();
      if (/^⎯+\s*Unhandled Errors?\s*⎯+$/.test(text) || /^Errors\s+\d+\s+errors?\b/.test(text)) {
        return { unknown: 'Vitest reported errors outside any test (unhandled errors), which name no test' };
      }
      const failedSuites = /^⎯+\s*Failed Suites (\d+)\s*⎯+$/.exec(text);
      if (failedSuites) failedSuitesHeader = Number(failedSuites[1]);
      const fail = /^FAIL\s+(.+?)\s*$/.exec(text);
      if (fail) {
        const entry = fail[1] ?? '';
        const suite = /^(.*?)\s+\[ .* \]$/.exec(entry);
        if (suite) suiteNames.push(suite[1] ?? '');
        else testNames.push(entry);
        continue;
      }
      const testsLine = /^Tests\s+(.*)$/.exec(text);
      if (testsLine) tests = testsLine[1];
      const filesLine = /^Test Files\s+(.*)$/.exec(text);
      if (filesLine) files = filesLine[1];
      if (/^Duration\s+/.test(text)) {
        end = i;
        break;
      }
    }
    const names = [...suiteNames, ...testNames];
    if (end < 0 || files === undefined) {
      if (names.length > 0 || lines.slice(start, limit + 1).some((line) => /^\s*×\s/.test(line))) {
        return { unknown: 'the Vitest output has no "Test Files … / Tests … / Duration" summary (cut off, or the runner crashed), so it may hold failures it does not name' };
      }
      sections.push({ start, end: start, names: [] });
      continue;
    }
    const failedTests = tests === undefined ? 0 : countIn(tests, /failed/);
    if (failedTests !== testNames.length) return { unknown: `Vitest's summary counts ${failedTests} failed tests but ${testNames.length} are named` };
    if (failedSuitesHeader !== suiteNames.length) return { unknown: `Vitest lists ${failedSuitesHeader} failed suites but ${suiteNames.length} are named` };
    const failedFiles = new Set(names.map((name) => name.split(' > ')[0]));
    if (countIn(files, /failed/) !== failedFiles.size) {
      return { unknown: `Vitest's summary counts ${countIn(files, /failed/)} failed test files but failures are named in ${failedFiles.size}` };
    }
    sections.push({ start, end, names });
  }
  return { sections };
}
