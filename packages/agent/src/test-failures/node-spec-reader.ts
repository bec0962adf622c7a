/**
 * Reads `node --test`'s spec reporter: `✖ name (1.2ms)`, with `▶ name` opening a suite (its
 * trailing `✖ failing tests:` list is part of the section but not read again). A section is read
 * only when its `ℹ fail N` + `ℹ cancelled N` summary agrees with the failures it names.
 */
import { DURATION_SUFFIX, lastGroup, type FormatReading, type RunnerSection } from './section.js';

const SPEC_MARK = /^(\s*)([✔✖▶﹣]) (.*)$/;

/** The sections of `node --test` spec reporter output in `lines`, or why they cannot be read. */
export function readNodeSpec(lines: readonly string[]): FormatReading {
  const sections: RunnerSection[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = lines.findIndex((line, at) => at >= i && (SPEC_MARK.test(line) || /^ℹ tests \d+/.test(line)));
    if (start < 0) break;
    const names: string[] = [];
    let leaves = 0;
    let parents = 0;
    // `▶ name` opens a suite or a test with subtests; the `✔`/`✖` line at its indentation closes it.
    const open: Array<{ indent: number; name: string }> = [];
    let summaryEnd = -1;
    let at = start;
    for (; at < lines.length; at++) {
      const line = lines[at] ?? '';
      if (/^ℹ (?:tests|suites|pass|fail|cancelled|skipped|todo) \d+/.test(line)) continue;
      if (/^ℹ duration_ms\b/.test(line)) {
        summaryEnd = at;
        break;
      }
      const mark = SPEC_MARK.exec(line);
      if (!mark) continue;
      const indent = (mark[1] ?? '').length;
      const text = (mark[3] ?? '').trim();
      if (mark[2] === '▶') {
        open.push({ indent, name: text });
        continue;
      }
      const name = text.replace(/\s*#\s*(TODO|SKIP)\b.*$/i, '').replace(DURATION_SUFFIX, '').trim();
      const closes = open.length > 0 && open[open.length - 1]?.indent === indent && open[open.length - 1]?.name === name;
      if (closes) open.pop();
      if (mark[2] !== '✖' || /#\s*(TODO|SKIP)\b/i.test(text) || name === '') continue;
      names.push(name);
      if (closes) parents += 1;
      else leaves += 1;
    }
    if (summaryEnd < 0) {
      if (names.length > 0) return { unknown: 'the node --test output has no "ℹ fail N" summary (cut off, or the runner crashed), so it may hold failures it does not name' };
      break;
    }
    const failed = Number(lastGroup(lines, start, summaryEnd, /^ℹ fail (\d+)/) ?? 0) + Number(lastGroup(lines, start, summaryEnd, /^ℹ cancelled (\d+)/) ?? 0);
    // The spec reporter cannot tell a failed suite (not counted) from a failed test with failed
    // subtests (counted), so a parent may or may not count; every leaf must.
    if (failed < leaves || failed > leaves + parents) {
      return { unknown: `the node --test summary counts ${failed} failed or cancelled tests but ${leaves} are named (and ${parents} failed suites or parents)` };
    }
    const end = afterSpecFailureList(lines, summaryEnd);
    sections.push({ start, end, names });
    i = end + 1;
  }
  return { sections };
}

/** The last line of the `✖ failing tests:` list after the spec summary at `summaryEnd`, or `summaryEnd`. */
function afterSpecFailureList(lines: readonly string[], summaryEnd: number): number {
  let next = summaryEnd + 1;
  while ((lines[next] ?? '').trim() === '' && next < lines.length) next += 1;
  if (!/^✖ failing tests:?\s*$/.test(lines[next] ?? '')) return summaryEnd;
  let end = next;
  for (let i = next + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    if (!/^\s/.test(line) && !/^test at /.test(line) && !/^✖ /.test(line)) break;
    end = i;
  }
  return end;
}
