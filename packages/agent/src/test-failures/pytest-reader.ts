/**
 * Reads pytest: `FAILED path::name - reason` and `ERROR path::name` from the short test summary.
 * A section (one session) is read only when its last line (`N failed, M errors … in Xs`) agrees
 * with the entries it names.
 */
import { countIn, type FormatReading, type RunnerSection } from './section.js';

const PYTEST_HEADER = /^=+ test session starts =+$/;
const PYTEST_ENTRY = /^(FAILED|ERROR) (\S+\.py(?:::\S+)?)(?: - .*)?$/;
/** pytest's last line: `==== 1 failed, 3 passed, 1 warning in 0.12s ====` (or bare with `-q`). */
const PYTEST_SUMMARY = /^=*\s*((?:\d+ [a-z]+(?:, )?)+|no tests ran) in \d+(?:\.\d+)?s\b.*?=*$/;

/** The sections of pytest output in `lines`, or why they cannot be read. */
export function readPytest(lines: readonly string[]): FormatReading {
  const sections: RunnerSection[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = lines.findIndex((line, at) => at >= i && (PYTEST_HEADER.test(line.trim()) || PYTEST_ENTRY.test(line.trim()) || /short test summary info/.test(line)));
    if (start < 0) break;
    const failed: string[] = [];
    const errors: string[] = [];
    let summary: string | undefined;
    let at = start;
    for (; at < lines.length; at++) {
      const text = (lines[at] ?? '').trim();
      if (at > start && PYTEST_HEADER.test(text)) {
        at -= 1;
        break;
      }
      const entry = PYTEST_ENTRY.exec(text);
      if (entry?.[2]) (entry[1] === 'FAILED' ? failed : errors).push(entry[2]);
      const last = PYTEST_SUMMARY.exec(text);
      if (last) {
        summary = last[1];
        break;
      }
    }
    const names = [...failed, ...errors];
    if (summary === undefined) {
      if (names.length > 0) return { unknown: 'the pytest output has no "N failed … in Xs" summary (cut off, or the runner crashed), so it may hold failures it does not name' };
      i = at + 1;
      continue;
    }
    if (countIn(summary, /failed/) !== failed.length || countIn(summary, /errors?/) !== errors.length) {
      return { unknown: `pytest's summary "${summary}" does not match the ${failed.length} FAILED and ${errors.length} ERROR entries named` };
    }
    sections.push({ start, end: Math.min(at, lines.length - 1), names });
    i = at + 1;
  }
  return { sections };
}
