/**
 * Reads TAP, as `node --test` prints it when its output is not a terminal: `not ok 3 - name`.
 * `# TODO` / `# SKIP` lines are not failures; nested subtests are named `parent › child` from
 * the `# Subtest:` lines above them. A section (one `TAP version` stream) is read only when its
 * `# fail N` + `# cancelled N` summary agrees with the failures it names.
 */
import { lastGroup, type FormatReading, type RunnerSection } from './section.js';

const TAP_HEADER = /^TAP version \d+/;
const TAP_RESULT = /^(\s*)(not ok|ok) \d+\b(.*)$/;
const TAP_SUMMARY = /^# (?:tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)\b/;

/** The sections of TAP output in `lines`, or why they cannot be read. */
export function readTap(lines: readonly string[]): FormatReading {
  const starts = lines.flatMap((line, i) => (TAP_HEADER.test(line) ? [i] : []));
  if (starts.length === 0) {
    const first = lines.findIndex((line) => TAP_RESULT.test(line));
    if (first < 0) return { sections: [] };
    starts.push(first);
  }
  const sections: RunnerSection[] = [];
  for (const [k, start] of starts.entries()) {
    const limit = (starts[k + 1] ?? lines.length) - 1;
    let end = start;
    const names: string[] = [];
    let counted = 0;
    // `# Subtest: name` lines open a test at their indentation (4 spaces a level).
    const parents: string[] = [];
    for (let i = start; i <= limit; i++) {
      const line = lines[i] ?? '';
      if (TAP_SUMMARY.test(line) || /^\s*\d+\.\.\d+/.test(line)) end = i;
      if (/^\s*Bail out!/.test(line)) return { unknown: `the TAP output bailed out ("${line.trim()}"), so the tests after it did not run` };
      const subtest = /^(\s*)# Subtest: (.*)$/.exec(line);
      if (subtest) {
        const level = Math.floor((subtest[1] ?? '').length / 4);
        parents.length = level;
        parents[level] = (subtest[2] ?? '').trim();
        continue;
      }
      const result = TAP_RESULT.exec(line);
      if (!result) continue;
      end = i;
      if (result[2] !== 'not ok') continue;
      const rest = result[3] ?? '';
      if (/#\s*(TODO|SKIP)\b/i.test(rest)) continue;
      const named = /^\s*-?\s*(.*?)\s*(?:#.*)?$/.exec(rest.replace(/\\#/g, '\u0000'));
      const name = (named?.[1] ?? '').replace(/\u0000/g, '#').trim();
      if (name === '') return { unknown: `a TAP line "${line.trim()}" names no test` };
      const level = Math.floor((result[1] ?? '').length / 4);
      names.push([...parents.slice(0, level), name].join(' › '));
      // node --test names a failed suite too, but does not count it in `# fail`.
      if (!isTapSuite(lines, i, limit)) counted += 1;
    }
    const fail = lastGroup(lines, start, end, /^# fail (\d+)\s*$/);
    const cancelled = Number(lastGroup(lines, start, end, /^# cancelled (\d+)\s*$/) ?? 0);
    if (fail === undefined) {
      if (names.length > 0) return { unknown: 'the TAP output has no "# fail N" summary (cut off, or the runner crashed), so it may hold failures it does not name' };
    } else if (Number(fail) + cancelled !== counted) {
      return { unknown: `the TAP summary counts ${Number(fail) + cancelled} failed or cancelled tests but ${counted} are named` };
    }
    sections.push({ start, end, names });
  }
  return { sections };
}

/** Whether the YAML block under the TAP result at `at` says it is a suite (`type: 'suite'`). */
function isTapSuite(lines: readonly string[], at: number, limit: number): boolean {
  const indent = /^\s*/.exec(lines[at] ?? '')?.[0].length ?? 0;
  if (!/^\s*---\s*$/.test(lines[at + 1] ?? '')) return false;
  for (let i = at + 2; i <= limit; i++) {
    const line = lines[i] ?? '';
    if (/^\s*\.\.\.\s*$/.test(line) && line.indexOf('.') <= indent + 2) return false;
    if (/^\s*type: '?suite'?\s*$/.test(line)) return true;
  }
  return false;
}
