/**
 * Reads Jest: `● Suite › name` (the full name, preferred) or else `✕ name (3 ms)` from the
 * verbose listing. A section (one run, up to `Ran all test suites`) is read only when its
 * `Tests: N failed` summary agrees with the failures it names.
 */
import { countIn, DURATION_SUFFIX, type FormatReading, type RunnerSection } from './section.js';

/** Jest's per-file line (`FAIL src/a.test.ts`), not Vitest's per-test `FAIL  file > name`. */
const JEST_FILE = /^\s*(?:PASS|FAIL)\s+(?!.* > )\S+(?:\s+\(\d+(?:\.\d+)?\s*m?s\))?\s*$/;

/** The sections of Jest output in `lines`, or why they cannot be read. */
export function readJest(lines: readonly string[]): FormatReading {
  const sections: RunnerSection[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = lines.findIndex((line, at) => at >= i && (JEST_FILE.test(line) || /^\s*● /.test(line) || /^\s*✕ /.test(line)));
    if (start < 0) break;
    const full: string[] = [];
    const short: string[] = [];
    let inFailureSummary = false;
    let tests: string | undefined;
    let end = start;
    let at = start;
    for (; at < lines.length; at++) {
      const line = lines[at] ?? '';
      if (/^Summary of all failing tests/.test(line.trim())) inFailureSummary = true;
      const summary = /^Tests:\s+(.*)$/.exec(line.trim());
      if (summary) tests = summary[1];
      if (/^(?:Test Suites:|Tests:|Snapshots:|Time:|Ran all test suites)/.test(line.trim())) end = at;
      if (/^Ran all test suites/.test(line.trim())) break;
      const bullet = /^\s*● (.*)$/.exec(line);
      if (bullet) {
        end = Math.max(end, at);
        const name = (bullet[1] ?? '').trim();
        if (/^Test suite failed to run$/i.test(name)) return { unknown: 'a Jest test suite failed to run, so its tests have no names' };
        // Configuration warnings use the same bullet and are not tests.
        if (/^(Validation|Deprecation) (Warning|Error)\b/i.test(name) || /^Console$/i.test(name)) continue;
        if (name !== '' && !inFailureSummary) full.push(name);
        continue;
      }
      const cross = /^\s*✕ (.*)$/.exec(line);
      if (cross) {
        end = Math.max(end, at);
        const name = (cross[1] ?? '').replace(DURATION_SUFFIX, '').trim();
        if (name !== '') short.push(name);
      }
      if (tests === undefined && JEST_FILE.test(line)) end = at;
    }
    // `●` lines carry the describe blocks too; `✕` lines (verbose listing) only the test's own title.
    const names = full.length > 0 ? full : short;
    if (tests === undefined) {
      if (names.length > 0) return { unknown: 'the Jest output has no "Tests: N failed" summary (cut off, or the runner crashed), so it may hold failures it does not name' };
    } else if (countIn(tests, /failed/) !== names.length) {
      return { unknown: `Jest's summary counts ${countIn(tests, /failed/)} failed tests but ${names.length} are named` };
    }
    sections.push({ start, end, names });
    i = Math.max(at, end) + 1;
  }
  return { sections };
}
