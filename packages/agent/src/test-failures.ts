/**
 * The names of the tests that failed, read from a test run's output. Used twice: by preflight,
 * to record which tests already fail on the untouched HEAD (the *baseline*), and by the agent
 * loop's test gate, to tell "only the baseline's failures are left" from a new failure.
 *
 * Formats read (after ANSI colours are stripped):
 * - TAP, as `node --test` prints it when its output is not a terminal: `not ok 3 - name`
 *   (`# TODO` / `# SKIP` lines are not failures; nested subtests are named
 *   `parent › child` from the `# Subtest:` lines above them);
 * - `node --test`'s spec reporter: `✖ name (1.2ms)` (its `✖ failing tests:` heading aside);
 * - Jest: `● Suite › name` (the full name, preferred) or else `✕ name (3 ms)`;
 * - pytest: `FAILED path::name - reason` and `ERROR path::name` from the short summary;
 * - Go: `--- FAIL: TestName (0.00s)` (subtests as `TestName/sub`);
 * - Mocha: the numbered entries after `N failing` (`1) Suite` … `name:`), named `Suite › name`.
 *
 * The answer is deliberately all or nothing: when a failure cannot be named (an unknown format,
 * a Jest suite that failed to run, a run whose output names no test although it failed), the
 * result says the names are unknown, so nobody treats a partial list as the whole story.
 */

/** A test runner output format this module reads. */
export const TestOutputFormats = {
  tap: 'tap',
  nodeSpec: 'node-spec',
  jest: 'jest',
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

// CSI sequences (colours, cursor moves) and the OSC hyperlinks some reporters print.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

/** The output without ANSI escapes and with `\r\n` line ends made `\n`. */
function plainLines(output: string): string[] {
  return output.replace(ANSI, '').replace(/\r\n?/g, '\n').split('\n');
}

/** A duration suffix such as ` (1.2ms)`, ` (3 ms)`, ` (0.53 s)`. */
const DURATION_SUFFIX = /\s+\(\d+(?:\.\d+)?\s*m?s\)\s*$/;

/** A parser's answer: names found, or a reason the output of this format cannot be read. */
type FormatReading = { names: string[] } | { unknown: string };

function readTap(lines: readonly string[]): FormatReading {
  const names: string[] = [];
  // `# Subtest: name` lines open a test at their indentation (4 spaces a level).
  const parents: string[] = [];
  for (const line of lines) {
    const subtest = /^(\s*)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      const level = Math.floor((subtest[1] ?? '').length / 4);
      parents.length = level;
      parents[level] = (subtest[2] ?? '').trim();
      continue;
    }
    const notOk = /^(\s*)not ok \d+(.*)$/.exec(line);
    if (!notOk) continue;
    const rest = notOk[2] ?? '';
    if (/#\s*(TODO|SKIP)\b/i.test(rest)) continue;
    const named = /^\s*-?\s*(.*?)\s*(?:#.*)?$/.exec(rest.replace(/\\#/g, '\u0000'));
    const name = (named?.[1] ?? '').replace(/\u0000/g, '#').trim();
    if (name === '') return { unknown: `a TAP line "${line.trim()}" names no test` };
    const level = Math.floor((notOk[1] ?? '').length / 4);
    names.push([...parents.slice(0, level), name].join(' › '));
  }
  return { names };
}

function readNodeSpec(lines: readonly string[]): FormatReading {
  const names: string[] = [];
  for (const line of lines) {
    const failed = /^\s*✖ (.*)$/.exec(line);
    if (!failed) continue;
    const text = (failed[1] ?? '').trim();
    if (/^failing tests:?$/.test(text) || /#\s*(TODO|SKIP)\b/i.test(text)) continue;
    const name = text.replace(DURATION_SUFFIX, '').trim();
    if (name !== '') names.push(name);
  }
  return { names };
}

function readJest(lines: readonly string[]): FormatReading {
  const full: string[] = [];
  const short: string[] = [];
  for (const line of lines) {
    const bullet = /^\s*● (.*)$/.exec(line);
    if (bullet) {
      const name = (bullet[1] ?? '').trim();
      if (/^Test suite failed to run$/i.test(name)) return { unknown: 'a Jest test suite failed to run, so its tests have no names' };
      // Configuration warnings use the same bullet and are not tests.
      if (/^(Validation|Deprecation) (Warning|Error)\b/i.test(name) || /^Console$/i.test(name)) continue;
      if (name !== '') full.push(name);
      continue;
    }
    const cross = /^\s*✕ (.*)$/.exec(line);
    if (cross) {
      const name = (cross[1] ?? '').replace(DURATION_SUFFIX, '').trim();
      if (name !== '') short.push(name);
    }
  }
  // `●` lines carry the describe blocks too; `✕` lines (verbose listing) only the test's own title.
  return { names: full.length > 0 ? full : short };
}

function readPytest(lines: readonly string[]): FormatReading {
  const names: string[] = [];
  for (const line of lines) {
    const entry = /^(FAILED|ERROR) (\S+\.py(?:::\S+)?)(?: - .*)?$/.exec(line.trim());
    if (entry?.[2]) names.push(entry[2]);
  }
  return { names };
}

function readGo(lines: readonly string[]): FormatReading {
  const names: string[] = [];
  for (const line of lines) {
    const entry = /^\s*--- FAIL: (\S+)/.exec(line);
    if (entry?.[1]) names.push(entry[1]);
  }
  return { names };
}

function readMocha(lines: readonly string[]): FormatReading {
  const start = lines.findIndex((line) => /^\s*\d+ failing\b/.test(line));
  if (start < 0) return { names: [] };
  const names: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const entry = /^\s*\d+\) (.*)$/.exec(lines[i] ?? '');
    if (!entry) continue;
    // The title runs over lines (one per describe level) up to the one that ends with ':'.
    const parts: string[] = [];
    let text = (entry[1] ?? '').trim();
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
    names.push(parts.filter((p) => p !== '').join(' › '));
  }
  return { names };
}

const READERS: ReadonlyArray<[TestOutputFormat, (lines: readonly string[]) => FormatReading]> = [
  [TestOutputFormats.tap, readTap],
  [TestOutputFormats.nodeSpec, readNodeSpec],
  [TestOutputFormats.jest, readJest],
  [TestOutputFormats.pytest, readPytest],
  [TestOutputFormats.go, readGo],
  [TestOutputFormats.mocha, readMocha],
];

/**
 * The failing tests a (failed) run's output names. `known: false` when no format names a
 * failure, or one of them shows a failure without a name; never a guess.
 *
 * @example
 * failingTestNames('not ok 1 - adds\nok 2 - subtracts'); // { known: true, names: ['adds'], formats: ['tap'] }
 * failingTestNames('Segmentation fault');                 // { known: false, reason: '…' }
 */
export function failingTestNames(output: string): FailingTests {
  const lines = plainLines(output);
  const names = new Set<string>();
  const formats: TestOutputFormat[] = [];
  for (const [format, read] of READERS) {
    const reading = read(lines);
    if ('unknown' in reading) return { known: false, reason: reading.unknown };
    if (reading.names.length === 0) continue;
    formats.push(format);
    reading.names.forEach((name) => names.add(name));
  }
  if (names.size === 0) return { known: false, reason: 'the output names no failing test in a format this reader knows (TAP, node --test, Jest, pytest, Go, Mocha)' };
  return { known: true, names: [...names], formats };
}
