/**
 * The names of the tests that failed, read from a test run's output. Used twice: by preflight,
 * to record which tests already fail on the untouched HEAD (the *baseline*), and by the agent
 * loop's test gate, to tell "only the baseline's failures are left" from a new failure.
 *
 * Formats read (after ANSI colours are stripped):
 * - TAP, as `node --test` prints it when its output is not a terminal: `not ok 3 - name`
 *   (`# TODO` / `# SKIP` lines are not failures; nested subtests are named
 *   `parent › child` from the `# Subtest:` lines above them);
 * - `node --test`'s spec reporter: `✖ name (1.2ms)` (its `✖ failing tests:` list aside);
 * - Jest: `● Suite › name` (the full name, preferred) or else `✕ name (3 ms)`;
 * - Vitest: `FAIL  file > Suite > name` (a file that failed to load: `FAIL  file [ file ]`,
 *   named `file`);
 * - pytest: `FAILED path::name - reason` and `ERROR path::name` from the short summary;
 * - Go: `--- FAIL: TestName (0.00s)` (subtests as `TestName/sub`);
 * - Mocha: the numbered entries after `N failing` (`1) Suite` … `name:`), named `Suite › name`.
 *
 * The answer is deliberately all or nothing, because a name list that misses one failure would
 * let that failure pass as a baseline one. The names are known only when
 * - every runner section (one run of one runner: a TAP stream, a Jest run …) ends in the
 *   runner's own summary and that summary's failure count agrees with the failures named in the
 *   section (TAP `# fail N` + `# cancelled N`, `ℹ fail N`, Jest `Tests: N failed`, Vitest
 *   `Tests  N failed` and `Test Files  N failed`, pytest `N failed, M errors`, Mocha
 *   `N failing`, Go: every `FAIL <package>` line preceded by a `--- FAIL`);
 * - nothing outside those sections looks like a failure: a stack trace, a Python traceback, a
 *   panic, a crash, a `FAIL` line or a failure count of a runner this reader does not know
 *   (`3 examples, 1 failure`, `test result: FAILED. … 1 failed`);
 * - at least one failure is named.
 * Otherwise the result says the names are unknown, with the reason.
 */

/** A test runner output format this module reads. */
export const TestOutputFormats = {
  tap: 'tap',
  nodeSpec: 'node-spec',
  jest: 'jest',
  vitest: 'vitest',
  pytest: 'pytest',
  go: 'go',
  mocha: 'mocha',
} as const;
export type TestOutputFormat = (typeof TestOutputFormats)[keyof typeof TestOutputFormats];

/** What a failed run's output says about which tests failed. */
export type FailingTests =
  | {
      known: true;
      /** The failing tests' names, each once, in the order first seen. */
      names: string[];
      /** The formats the names were read from. */
      formats: TestOutputFormat[];
    }
  | {
      known: false;
      /** Why the names are unknown, for a person. */
      reason: string;
    };

/** How to read a run's output. */
export interface FailingTestNamesOptions {
  /**
   * The directory the command ran in (as the runner sees it: its real path). Runners name some
   * failures by absolute path (`node --test` names a file that fails as a whole
   * `/work/repo/test/a.test.mjs`); this prefix is removed from names, so runs of the same
   * repository in different directories (preflight's baseline worktree, the agent's worktree)
   * give the same repository-relative names. @default undefined (names as printed)
   */
  cwd?: string;
}

// CSI sequences (colours, cursor moves) and the OSC hyperlinks some reporters print.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

/** The output without ANSI escapes and with `\r\n` line ends made `\n`. */
function plainLines(output: string): string[] {
  return output.replace(ANSI, '').replace(/\r\n?/g, '\n').split('\n');
}

/** A duration suffix such as ` (1.2ms)`, ` (3 ms)`, ` (0.53 s)`. */
const DURATION_SUFFIX = /\s+\(\d+(?:\.\d+)?\s*m?s\)\s*$/;

/** The output of one run of one runner: lines `start`..`end` (inclusive) and the failures it names. */
interface RunnerSection {
  start: number;
  end: number;
  names: string[];
}

/** A reader's answer: the sections of its format, or why the output of this format cannot be read. */
type FormatReading = { sections: RunnerSection[] } | { unknown: string };

/** The number before `word` in a summary line (`3 failed, 1 passed` → 3 for `failed`), 0 without it. */
function countIn(summary: string, word: RegExp): number {
  const match = new RegExp(`(\\d+)\\s+${word.source}`).exec(summary);
  return match?.[1] !== undefined ? Number(match[1]) : 0;
}

/** The last match of `pattern` among `lines[from..to]`, as its first group. */
function lastGroup(lines: readonly string[], from: number, to: number, pattern: RegExp): string | undefined {
  for (let i = to; i >= from; i--) {
    const match = pattern.exec(lines[i] ?? '');
    if (match) return match[1];
  }
  return undefined;
}

const TAP_HEADER = /^TAP version \d+/;
const TAP_RESULT = /^(\s*)(not ok|ok) \d+\b(.*)$/;
const TAP_SUMMARY = /^# (?:tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)\b/;

function readTap(lines: readonly string[]): FormatReading {
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

const SPEC_MARK = /^(\s*)([✔✖▶﹣]) (.*)$/;

function readNodeSpec(lines: readonly string[]): FormatReading {
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

/** Jest's per-file line (`FAIL src/a.test.ts`), not Vitest's per-test `FAIL  file > name`. */
const JEST_FILE = /^\s*(?:PASS|FAIL)\s+(?!.* > )\S+(?:\s+\(\d+(?:\.\d+)?\s*m?s\))?\s*$/;

function readJest(lines: readonly string[]): FormatReading {
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

function readVitest(lines: readonly string[]): FormatReading {
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

const PYTEST_HEADER = /^=+ test session starts =+$/;
const PYTEST_ENTRY = /^(FAILED|ERROR) (\S+\.py(?:::\S+)?)(?: - .*)?$/;
/** pytest's last line: `==== 1 failed, 3 passed, 1 warning in 0.12s ====` (or bare with `-q`). */
const PYTEST_SUMMARY = /^=*\s*((?:\d+ [a-z]+(?:, )?)+|no tests ran) in \d+(?:\.\d+)?s\b.*?=*$/;

function readPytest(lines: readonly string[]): FormatReading {
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

const GO_RESULT = /^(ok|FAIL|\?)\s*\t(\S+)(.*)$/;

function readGo(lines: readonly string[]): FormatReading {
  const start = lines.findIndex((line) => /^\s*(?:=== RUN|--- FAIL:)/.test(line) || GO_RESULT.test(line));
  if (start < 0) return { sections: [] };
  const names: string[] = [];
  let unreported = 0;
  let end = start;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const failure = /^\s*--- FAIL: (\S+)/.exec(line);
    if (failure?.[1]) {
      names.push(failure[1]);
      unreported += 1;
      end = i;
      continue;
    }
    if (/^(?:panic|fatal error): /.test(line)) return { unknown: `a Go test binary panicked ("${line.trim()}"), so the tests after it did not run` };
    if (/^\s*=== RUN/.test(line)) end = i;
    // The bare `FAIL` after a package's failures and at the very end of `go test ./...`.
    if (/^FAIL\s*$/.test(line) && i > start) end = i;
    const result = GO_RESULT.exec(line);
    if (!result) continue;
    end = i;
    if (result[1] === 'FAIL') {
      if (/\[(?:build|setup) failed\]/.test(result[3] ?? '')) return { unknown: `the Go package ${result[2]} did not build, so its tests have no names` };
      if (unreported === 0) return { unknown: `the Go package ${result[2]} failed without a "--- FAIL" line naming a test` };
    }
    unreported = 0;
  }
  if (unreported > 0) return { unknown: 'the Go output names failing tests but has no "FAIL <package>" line after them (cut off, or the runner crashed)' };
  return { sections: [{ start, end, names }] };
}

function readMocha(lines: readonly string[]): FormatReading {
  const sections: RunnerSection[] = [];
  let previousEnd = -1;
  for (let p = 0; p < lines.length; p++) {
    if (!/^\s*\d+ passing \(/.test(lines[p] ?? '')) continue;
    // The listing above the summary belongs to the section (a test's console output sits in it).
    let start = p;
    for (let i = p - 1; i > previousEnd; i--) if (/^\s+(?:✔|✓|\d+\)|-) /.test(lines[i] ?? '')) start = i;
    let end = p;
    let failing: number | undefined;
    for (let i = p + 1; i < lines.length && i <= p + 3; i++) {
      const count = /^\s*(\d+) (pending|failing)\b/.exec(lines[i] ?? '');
      if (!count) continue;
      end = i;
      if (count[2] === 'failing') failing = Number(count[1]);
    }
    const names: string[] = [];
    if (failing !== undefined) {
      // Entries are numbered 1, 2, …; mocha indents everything, so a line at column 0 ends the section.
      for (let i = end + 1; i < lines.length; i++) {
        const line = lines[i] ?? '';
        if (line.trim() !== '' && !/^\s/.test(line)) break;
        end = i;
        const entry = /^\s{1,4}(\d+)\) (.*)$/.exec(line);
        if (!entry || Number(entry[1]) !== names.length + 1) continue;
        // The title runs over lines (one per describe level) up to the one that ends with ':'.
        const parts: string[] = [];
        let text = (entry[2] ?? '').trim();
        for (;;) {
          if (text.endsWith(':')) {
            parts.push(text.slice(0, -1).trim());
            break;
          }
          parts.push(text);
          i += 1;
          const next = lines[i];
          if (next === undefined || next.trim() === '') return { unknown: `the Mocha failure "${parts.join(' › ')}" has no closing title line` };
          text = next.trim();
        }
        end = i;
        names.push(parts.filter((part) => part !== '').join(' › '));
      }
      if (names.length !== failing) return { unknown: `Mocha's summary counts ${failing} failing tests but ${names.length} are named` };
    }
    sections.push({ start, end, names });
    previousEnd = end;
    p = end;
  }
  return { sections };
}

const READERS: ReadonlyArray<[TestOutputFormat, (lines: readonly string[]) => FormatReading]> = [
  [TestOutputFormats.tap, readTap],
  [TestOutputFormats.nodeSpec, readNodeSpec],
  [TestOutputFormats.jest, readJest],
  [TestOutputFormats.vitest, readVitest],
  [TestOutputFormats.pytest, readPytest],
  [TestOutputFormats.go, readGo],
  [TestOutputFormats.mocha, readMocha],
];

/**
 * Signs of a failure outside every section a reader understood: another runner, or a crash
 * before or after the tests. Any of them makes the names unknown.
 */
const UNREAD_FAILURE_SIGNS: ReadonlyArray<[RegExp, string]> = [
  [/^\s+at \S.*(?::\d+(?::\d+)?\)?|\(native\)|\(<anonymous>\))\s*$/, 'a JavaScript stack trace'],
  [/^Traceback \(most recent call last\):/, 'a Python traceback'],
  [/^(?:panic|fatal error): /, 'a Go panic'],
  [/Segmentation fault|core dumped|^Killed\b|^Aborted\b|^Bus error\b|^FATAL ERROR:/, 'a crash'],
  // Failure marks of the formats read here, where no reader placed them in a section.
  [/^\s*(?:not ok \d+|--- FAIL:|[✖✕×●] )/, 'a test failure mark outside the runner output it belongs to'],
  [/^\s*(?:FAIL|FAILED|FAILURES!|ERROR)\b/, 'a failure line of a runner this reader does not know'],
  [/\b[1-9]\d*\s+(?:tests?\s+|examples?\s+)?(?:failed|failing|failures?|fail|errors?)\b/i, 'a failure count of a runner this reader does not know'],
  [/\b(?:failures|failed|errors)\s*[:=]\s*[1-9]/i, 'a failure count of a runner this reader does not know'],
];

/** The first line outside `sections` that looks like a failure, described for a person. */
function unreadFailure(lines: readonly string[], sections: readonly RunnerSection[]): string | undefined {
  for (const [at, line] of lines.entries()) {
    if (sections.some((section) => at >= section.start && at <= section.end)) continue;
    const sign = UNREAD_FAILURE_SIGNS.find(([pattern]) => pattern.test(line));
    if (sign) return `line ${at + 1} outside the test runner output this reader understood looks like ${sign[1]}: "${line.trim().slice(0, 200)}"`;
  }
  return undefined;
}

/** `name` with the run's directory taken out of the file paths in it. */
function relativeTo(name: string, cwd: string | undefined): string {
  const root = cwd?.replace(/\/+$/, '');
  if (root === undefined || root === '') return name;
  return name.split(`file://${root}/`).join('').split(`${root}/`).join('');
}

/**
 * The failing tests a (failed) run's output names. `known: false` when no format names a
 * failure, a runner's summary counts more (or fewer) failures than are named, something outside
 * the runners' output looks like a failure, or a failure has no name; never a guess.
 *
 * @example
 * failingTestNames('not ok 1 - adds\nok 2 - subtracts\n# fail 1'); // { known: true, names: ['adds'], formats: ['tap'] }
 * failingTestNames('Segmentation fault');                           // { known: false, reason: '…' }
 * failingTestNames(output, { cwd: '/work/repo' });                  // '/work/repo/test/a.test.mjs' → 'test/a.test.mjs'
 */
export function failingTestNames(output: string, options: FailingTestNamesOptions = {}): FailingTests {
  const lines = plainLines(output);
  const names = new Set<string>();
  const formats: TestOutputFormat[] = [];
  const sections: RunnerSection[] = [];
  for (const [format, read] of READERS) {
    const reading = read(lines);
    if ('unknown' in reading) return { known: false, reason: reading.unknown };
    sections.push(...reading.sections);
    const found = reading.sections.flatMap((section) => section.names);
    if (found.length === 0) continue;
    formats.push(format);
    found.forEach((name) => names.add(relativeTo(name, options.cwd)));
  }
  const unread = unreadFailure(lines, sections);
  if (unread !== undefined) return { known: false, reason: unread };
  if (names.size === 0) return { known: false, reason: 'the output names no failing test in a format this reader knows (TAP, node --test, Jest, Vitest, pytest, Go, Mocha)' };
  return { known: true, names: [...names], formats };
}
