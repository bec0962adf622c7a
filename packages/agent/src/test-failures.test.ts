import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failingTestNames } from './test-failures.js';

/** A temp directory holding `files`, removed after `use`. */
function withFiles<T>(files: Record<string, string>, use: (dir: string) => T): T {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-failures-')));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stdout and stderr of a shell command, interleaved as a test gate sees them. */
function shell(command: string, cwd: string): string {
  return spawnSync('sh', ['-c', `${command} 2>&1`], { cwd, encoding: 'utf8' }).stdout;
}

const NODE_TESTS = {
  'a.test.mjs': [
    "import test, { describe, it } from 'node:test';",
    "import assert from 'node:assert';",
    "test('adds numbers', () => assert.equal(1, 2));",
    "test('passes', () => {});",
    "describe('math', () => { it('multiplies', () => assert.equal(2, 3)); it('fine', () => {}); });",
    "test('later', { todo: true }, () => assert.equal(1, 2));",
    "test('outer', async (t) => { await t.test('inner', () => assert.equal(1, 2)); });",
    '',
  ].join('\n'),
  // Fails as a whole: node --test names it by its absolute path.
  'broken.test.mjs': "throw new Error('broken file');\n",
};

/** Vitest 4.1 (`vitest run`, NO_COLOR) on a file with three failing tests, a file that fails to load and a passing file. */
const VITEST_OUTPUT = [
  '',
  ' RUN  v4.1.12 /tmp/h12-vitest',
  '',
  ' ❯ src/math.test.ts (5 tests | 3 failed | 1 todo) 14ms',
  '     ✓ adds 4ms',
  '     × multiplies 7ms',
  '       × divides 1ms',
  '   × top level 1ms',
  '   □ later',
  ' ❯ src/broken.test.ts (0 test)',
  ' ✓ src/ok.test.ts (1 test) 4ms',
  '',
  '⎯⎯⎯⎯⎯⎯ Failed Suites 1 ⎯⎯⎯⎯⎯⎯⎯',
  '',
  ' FAIL  src/broken.test.ts [ src/broken.test.ts ]',
  "Error: Cannot find module './nope.js' imported from /tmp/h12-vitest/src/broken.test.ts",
  ' ❯ src/broken.test.ts:1:1',
  "      1| import './nope.js';",
  '       | ^',
  '      2|',
  '',
  '⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/4]⎯',
  '',
  '',
  '⎯⎯⎯⎯⎯⎯⎯ Failed Tests 3 ⎯⎯⎯⎯⎯⎯⎯',
  '',
  ' FAIL  src/math.test.ts > math > multiplies',
  'AssertionError: expected 6 to be 5 // Object.is equality',
  '',
  ' ❯ src/math.test.ts:4:40',
  '',
  '⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[2/4]⎯',
  '',
  ' FAIL  src/math.test.ts > math > deep > divides',
  'AssertionError: expected 1 to be 2 // Object.is equality',
  ' ❯ src/math.test.ts:5:58',
  '',
  '⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[3/4]⎯',
  '',
  ' FAIL  src/math.test.ts > top level',
  'Error: boom',
  ' ❯ src/math.test.ts:7:33',
  '',
  '⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[4/4]⎯',
  '',
  '',
  ' Test Files  2 failed | 1 passed (3)',
  '      Tests  3 failed | 2 passed | 1 todo (6)',
  '   Start at  02:50:26',
  '   Duration  1.30s (transform 69ms, setup 0ms, import 95ms, tests 18ms, environment 0ms)',
  '',
].join('\n');

/** Jest 30 (`jest --ci`) on two files with three failing tests. */
const JEST_OUTPUT = [
  '\u001b[31mFAIL\u001b[39m ./a.test.js',
  '  \u001b[1m● math › multiplies\u001b[22m',
  '',
  '    expect(received).toBe(expected) // Object.is equality',
  '',
  '      at Object.toBe (a.test.js:1:92)',
  '',
  '  ● top',
  '',
  '    x',
  'FAIL ./b.test.js',
  '  ● other',
  '',
  '    expect(received).toBe(expected) // Object.is equality',
  'Test Suites: 2 failed, 2 total',
  'Tests:       3 failed, 1 passed, 4 total',
  'Snapshots:   0 total',
  'Time:        0.904 s',
  'Ran all test suites.',
].join('\n');

/** TAP naming only `legacy`, as a baseline-failing `node --test` prints it. */
const LEGACY_TAP = ['TAP version 13', '# Subtest: legacy', 'not ok 1 - legacy', '  ---', "  error: 'broken before'", '  ...', '1..1', '# tests 1', '# pass 0', '# fail 1', '# duration_ms 5.2'].join('\n');

describe('failingTestNames', () => {
  it('reads TAP from a real `node --test` run: nested tests by their parents, suites, TODO left out, counts checked', () => {
    const output = withFiles(NODE_TESTS, (dir) => shell('node --test --test-reporter=tap', dir));
    // `# fail 5` counts adds numbers, multiplies, inner, outer and the broken file; `math` is a suite.
    expect(output).toMatch(/^# fail 5$/m);
    expect(failingTestNames(output)).toMatchObject({
      known: true,
      names: ['adds numbers', 'math › multiplies', 'math', 'outer › inner', 'outer', expect.stringMatching(/^\/.*\/broken\.test\.mjs$/)],
      formats: ['tap'],
    });
  });

  it('strips the run directory from file names, so the same failure in two checkouts has one name', () => {
    const names = [1, 2].map(() => withFiles(NODE_TESTS, (dir) => failingTestNames(shell('node --test --test-reporter=tap', dir), { cwd: dir })));
    expect(names[0]).toMatchObject({ known: true, names: expect.arrayContaining(['broken.test.mjs']) });
    expect(names[1]).toEqual(names[0]);
    // A trailing slash on cwd changes nothing; a run read without cwd keeps the absolute path.
    withFiles(NODE_TESTS, (dir) => {
      const output = shell('node --test --test-reporter=tap', dir);
      expect(failingTestNames(output, { cwd: `${dir}/` })).toEqual(names[0]);
      expect(failingTestNames(output)).toMatchObject({ names: expect.arrayContaining([join(dir, 'broken.test.mjs')]) });
    });
  });

  it('reads the node --test spec reporter, whose summary cannot tell failed suites from failed parents', () => {
    const output = withFiles(NODE_TESTS, (dir) => shell('node --test --test-reporter=spec', dir));
    expect(failingTestNames(output, { cwd: '/nowhere' })).toMatchObject({ known: true, formats: ['node-spec'] });
    withFiles(NODE_TESTS, (dir) => {
      expect(failingTestNames(shell('node --test --test-reporter=spec', dir), { cwd: dir })).toEqual({
        known: true,
        names: ['adds numbers', 'multiplies', 'math', 'inner', 'outer', 'broken.test.mjs'],
        formats: ['node-spec'],
      });
    });
    // Without its summary (cut off) the listing proves nothing.
    expect(failingTestNames('✖ adds numbers (2.04ms)\n✔ ok one (0.19ms)\n')).toMatchObject({ known: false });
    // A summary counting more failures than are listed.
    expect(failingTestNames(['✖ adds numbers (2.04ms)', 'ℹ tests 3', 'ℹ pass 1', 'ℹ fail 2', 'ℹ duration_ms 9'].join('\n'))).toMatchObject({ known: false, reason: expect.stringContaining('counts 2') });
  });

  it('reads Jest, preferring the full `●` names, checking them against "Tests: N failed"', () => {
    expect(failingTestNames(JEST_OUTPUT)).toEqual({ known: true, names: ['math › multiplies', 'top', 'other'], formats: ['jest'] });
    // The verbose listing alone, with its summary.
    expect(failingTestNames('  ✕ multiplies (3 ms)\nTests:       1 failed, 1 total\n')).toEqual({ known: true, names: ['multiplies'], formats: ['jest'] });
    // The failures repeated under "Summary of all failing tests" are not counted twice.
    const summarised = JEST_OUTPUT.replace('Test Suites:', 'Summary of all failing tests\n  ● math › multiplies\n  ● top\n  ● other\n\nTest Suites:');
    expect(failingTestNames(summarised)).toMatchObject({ known: true, names: ['math › multiplies', 'top', 'other'] });
    // One failure more than the bullets name, or no summary at all: unknown.
    expect(failingTestNames(JEST_OUTPUT.replace('3 failed, 1 passed', '4 failed'))).toMatchObject({ known: false, reason: expect.stringContaining('counts 4') });
    expect(failingTestNames(JEST_OUTPUT.split('Test Suites:')[0] ?? '')).toMatchObject({ known: false });
  });

  it('says the names are unknown when a Jest suite failed to run', () => {
    const result = failingTestNames(' FAIL  src/x.test.ts\n  ● Test suite failed to run\n\n    Cannot find module');
    expect(result).toMatchObject({ known: false });
  });

  it("reads Vitest's FAIL lines, a file that failed to load by its name, and checks both summary counts", () => {
    expect(failingTestNames(VITEST_OUTPUT)).toEqual({
      known: true,
      names: ['src/broken.test.ts', 'src/math.test.ts > math > multiplies', 'src/math.test.ts > math > deep > divides', 'src/math.test.ts > top level'],
      formats: ['vitest'],
    });
    // Colours as Vitest prints them on a terminal.
    const coloured = VITEST_OUTPUT.replace(' FAIL  src/math.test.ts > top level', '\u001b[41m\u001b[1m FAIL \u001b[22m\u001b[49m src/math.test.ts\u001b[2m > \u001b[22mtop level');
    expect(failingTestNames(coloured)).toEqual(failingTestNames(VITEST_OUTPUT));
    // A failing test whose FAIL entry is missing, one failed file too many, errors outside tests, no summary.
    expect(failingTestNames(VITEST_OUTPUT.replace(' FAIL  src/math.test.ts > top level', ''))).toMatchObject({ known: false, reason: expect.stringContaining('3 failed tests but 2') });
    expect(failingTestNames(VITEST_OUTPUT.replace('Test Files  2 failed', 'Test Files  3 failed'))).toMatchObject({ known: false });
    expect(failingTestNames(VITEST_OUTPUT.replace('   Start at', '     Errors  1 error\n   Start at'))).toMatchObject({ known: false });
    expect(failingTestNames(VITEST_OUTPUT.split(' Test Files')[0] ?? '')).toMatchObject({ known: false });
  });

  it('reads pytest, Go and Mocha, each against its own summary', () => {
    const pytest = [
      '============================= test session starts ==============================',
      'collected 5 items',
      '',
      'tests/test_math.py .F.                                                    [ 60%]',
      'tests/test_db.py .E                                                       [100%]',
      '=========================== short test summary info ============================',
      'FAILED tests/test_math.py::test_div - ZeroDivisionError: division by zero',
      'ERROR tests/test_db.py::test_connect - ConnectionError',
      '==================== 1 failed, 3 passed, 1 error in 0.12s =====================',
    ].join('\n');
    expect(failingTestNames(pytest)).toEqual({ known: true, names: ['tests/test_math.py::test_div', 'tests/test_db.py::test_connect'], formats: ['pytest'] });
    expect(failingTestNames(pytest.replace('1 failed, 3 passed', '2 failed, 2 passed'))).toMatchObject({ known: false });
    expect(failingTestNames(pytest.split('\n').slice(0, -1).join('\n'))).toMatchObject({ known: false });

    const go = ['=== RUN   TestAdd', '--- FAIL: TestAdd (0.00s)', '    --- FAIL: TestAdd/negative (0.00s)', 'FAIL', 'FAIL\texample.com/calc\t0.002s', 'ok  \texample.com/util\t0.001s', 'FAIL'].join('\n');
    expect(failingTestNames(go)).toEqual({ known: true, names: ['TestAdd', 'TestAdd/negative'], formats: ['go'] });
    // A second package that fails without naming a test (os.Exit in a test, a panic, a build failure).
    expect(failingTestNames(`${go}\nFAIL\texample.com/other\t0.003s`)).toMatchObject({ known: false, reason: expect.stringContaining('example.com/other') });
    expect(failingTestNames(`${go}\n# example.com/api\n./api.go:3:1: syntax error\nFAIL\texample.com/api [build failed]`)).toMatchObject({ known: false });
    expect(failingTestNames(go.replace('FAIL\n', 'panic: boom [recovered]\n'))).toMatchObject({ known: false });

    const mocha = [
      '  math',
      '    ✔ adds',
      '    1) multiplies',
      '  2) top level',
      '',
      '  1 passing (5ms)',
      '  2 failing',
      '',
      '  1) math',
      '       multiplies:',
      '     AssertionError: expected 6 to equal 5',
      '      at Context.<anonymous> (test/math.js:4:12)',
      '',
      '  2) top level:',
      '     Error: boom',
      '      at Context.<anonymous> (test/math.js:7:9)',
      '',
    ].join('\n');
    expect(failingTestNames(mocha)).toEqual({ known: true, names: ['math › multiplies', 'top level'], formats: ['mocha'] });
    expect(failingTestNames(mocha.replace('2 failing', '3 failing'))).toMatchObject({ known: false, reason: expect.stringContaining('counts 3') });
  });

  it('does not let a second runner in the same command hide a failure behind baseline names', () => {
    // Before: only `legacy` was named, so a run with a new Vitest failure looked like the baseline.
    expect(failingTestNames(`${LEGACY_TAP}\n${VITEST_OUTPUT}`)).toMatchObject({ known: true, names: expect.arrayContaining(['legacy', 'src/math.test.ts > top level']), formats: ['tap', 'vitest'] });
    // A runner this reader does not know: its failure count makes the whole answer unknown.
    const cargo = 'running 2 tests\ntest adds ... ok\ntest divides ... FAILED\n\ntest result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured';
    expect(failingTestNames(`${LEGACY_TAP}\n${cargo}`)).toMatchObject({ known: false, reason: expect.stringContaining('runner this reader does not know') });
    const rspec = 'Finished in 0.01 seconds\n3 examples, 1 failure';
    expect(failingTestNames(`${rspec}\n${LEGACY_TAP}`)).toMatchObject({ known: false });
    // A failure mark no reader placed in a section (here TAP before the stream's header).
    expect(failingTestNames(`not ok 1 - new failure\n${LEGACY_TAP}`)).toMatchObject({ known: false, reason: expect.stringContaining('failure mark') });
    // Two Jest runs: the second one's summary counts a failure its bullets do not name.
    const second = JEST_OUTPUT.replace('3 failed, 1 passed', '4 failed');
    expect(failingTestNames(`${JEST_OUTPUT}\n${second}`)).toMatchObject({ known: false });
  });

  it('does not excuse a crash after the TAP output, or TAP whose summary counts more failures than it names', () => {
    const output = withFiles(
      { 't.test.mjs': "import test from 'node:test';\ntest('legacy', () => { throw new Error('broken before'); });\n" },
      (dir) => shell("node --test --test-reporter=tap; node -e \"throw new Error('crash after the tests')\"", dir),
    );
    expect(output).toContain('crash after the tests');
    expect(failingTestNames(output)).toMatchObject({ known: false, reason: expect.stringContaining('stack trace') });
    // The TAP part alone is fine: legacy, once.
    expect(failingTestNames(output.slice(0, output.indexOf('# duration_ms')) + '# duration_ms 1')).toMatchObject({ known: true, names: ['legacy'] });

    expect(failingTestNames(LEGACY_TAP.replace('# fail 1', '# fail 2'))).toMatchObject({ known: false, reason: expect.stringContaining('counts 2') });
    // Cut off before the summary.
    expect(failingTestNames(LEGACY_TAP.split('1..1')[0] ?? '')).toMatchObject({ known: false });
    expect(failingTestNames(`${LEGACY_TAP}\nBail out! database down`)).toMatchObject({ known: false });
    // Python and Go crashes after the tests, a segfault.
    expect(failingTestNames(`${LEGACY_TAP}\nTraceback (most recent call last):\n  File "x.py", line 1`)).toMatchObject({ known: false });
    expect(failingTestNames(`${LEGACY_TAP}\nSegmentation fault (core dumped)`)).toMatchObject({ known: false });
    // Ordinary lines around the runner (an npm banner, pnpm's closing note) are no failure.
    expect(failingTestNames(`> demo@1.0.0 test\n> node --test\n\n${LEGACY_TAP}\n ELIFECYCLE  Test failed. See above for more details.`)).toEqual({ known: true, names: ['legacy'], formats: ['tap'] });
  });

  it('says the names are unknown for output it cannot read, instead of guessing', () => {
    expect(failingTestNames('Segmentation fault (core dumped)')).toMatchObject({ known: false });
    expect(failingTestNames('')).toMatchObject({ known: false });
    expect(failingTestNames('ERROR: could not connect to the database')).toMatchObject({ known: false });
    // A TAP failure without a name cannot be matched against anything.
    expect(failingTestNames('not ok 1\n# fail 1\n')).toMatchObject({ known: false });
  });
});
