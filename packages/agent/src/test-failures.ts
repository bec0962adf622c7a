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
 *
 * Each format has its own reader under `test-failures/` (`tap-reader.ts` …), which finds its
 * runner's sections and checks them against the runner's summary; this module strips the output,
 * runs every reader, looks for failures outside their sections (`unread-failure.ts`) and combines
 * the names.
 */
import { readGo } from './test-failures/go-reader.js';
import { readJest } from './test-failures/jest-reader.js';
import { readMocha } from './test-failures/mocha-reader.js';
import { readNodeSpec } from './test-failures/node-spec-reader.js';
import { readPytest } from './test-failures/pytest-reader.js';
import type { FormatReader, RunnerSection } from './test-failures/section.js';
import { readTap } from './test-failures/tap-reader.js';
import { unreadFailure } from './test-failures/unread-failure.js';
import { readVitest } from './test-failures/vitest-reader.js';

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

/** Every reader, in the order their formats are listed in a known answer's `formats`. */
const READERS: ReadonlyArray<[TestOutputFormat, FormatReader]> = [
  [TestOutputFormats.tap, readTap],
  [TestOutputFormats.nodeSpec, readNodeSpec],
  [TestOutputFormats.jest, readJest],
  [TestOutputFormats.vitest, readVitest],
  [TestOutputFormats.pytest, readPytest],
  [TestOutputFormats.go, readGo],
  [TestOutputFormats.mocha, readMocha],
];

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
