import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failingTestNames } from './test-failures.js';

describe('failingTestNames', () => {
  it('reads TAP from a real `node --test` run, naming nested tests by their parents and leaving TODO out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-tap-'));
    try {
      writeFileSync(
        join(dir, 'a.test.mjs'),
        [
          "import test, { describe, it } from 'node:test';",
          "import assert from 'node:assert';",
          "test('adds numbers', () => assert.equal(1, 2));",
          "test('passes', () => {});",
          "describe('math', () => { it('multiplies', () => assert.equal(2, 3)); it('fine', () => {}); });",
          "test('later', { todo: true }, () => assert.equal(1, 2));",
        ].join('\n'),
      );
      let output = '';
      try {
        execFileSync(process.execPath, ['--test', '--test-reporter=tap'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      } catch (err) {
        output = String((err as { stdout?: unknown }).stdout ?? '');
      }
      expect(failingTestNames(output)).toEqual({ known: true, names: ['adds numbers', 'math › multiplies', 'math'], formats: ['tap'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads node --test spec output without durations or the failing-tests heading', () => {
    const output = ['✖ adds numbers (2.04ms)', '  AssertionError', '✔ ok one (0.19ms)', '▶ math', '  ✖ multiplies (0.46ms)', '✖ failing tests:', '', '✖ adds numbers (2.04ms)'].join('\n');
    expect(failingTestNames(output)).toEqual({ known: true, names: ['adds numbers', 'multiplies'], formats: ['node-spec'] });
  });

  it('reads Jest, preferring the full `●` names to the `✕` titles, and strips colours', () => {
    const output = [
      '\u001b[31m FAIL \u001b[39m src/math.test.ts',
      '  math',
      '    ✓ adds (2 ms)',
      '    ✕ multiplies (3 ms)',
      '',
      '  \u001b[1m● math › multiplies\u001b[22m',
      '',
      '    expect(received).toBe(expected)',
      'Summary of all failing tests',
      '  ● math › multiplies',
    ].join('\n');
    expect(failingTestNames(output)).toEqual({ known: true, names: ['math › multiplies'], formats: ['jest'] });
    expect(failingTestNames('  ✕ multiplies (3 ms)\n')).toEqual({ known: true, names: ['multiplies'], formats: ['jest'] });
  });

  it('says the names are unknown when a Jest suite failed to run', () => {
    const result = failingTestNames(' FAIL  src/x.test.ts\n  ● Test suite failed to run\n\n    Cannot find module');
    expect(result).toMatchObject({ known: false });
  });

  it('reads pytest, Go and Mocha', () => {
    const pytest = [
      '=========================== short test summary info ============================',
      'FAILED tests/test_math.py::test_div - ZeroDivisionError: division by zero',
      'ERROR tests/test_db.py::test_connect - ConnectionError',
      '========================= 1 failed, 3 passed in 0.12s ==========================',
    ].join('\n');
    expect(failingTestNames(pytest)).toEqual({ known: true, names: ['tests/test_math.py::test_div', 'tests/test_db.py::test_connect'], formats: ['pytest'] });

    const go = ['=== RUN   TestAdd', '--- FAIL: TestAdd (0.00s)', '    --- FAIL: TestAdd/negative (0.00s)', 'FAIL', 'FAIL\texample.com/calc\t0.002s'].join('\n');
    expect(failingTestNames(go)).toEqual({ known: true, names: ['TestAdd', 'TestAdd/negative'], formats: ['go'] });

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
      '',
      '  2) top level:',
      '     Error: boom',
    ].join('\n');
    expect(failingTestNames(mocha)).toEqual({ known: true, names: ['math › multiplies', 'top level'], formats: ['mocha'] });
  });

  it('says the names are unknown for output it cannot read, instead of guessing', () => {
    expect(failingTestNames('Segmentation fault (core dumped)')).toMatchObject({ known: false });
    expect(failingTestNames('')).toMatchObject({ known: false });
    expect(failingTestNames('ERROR: could not connect to the database')).toMatchObject({ known: false });
    // A TAP failure without a name cannot be matched against anything.
    expect(failingTestNames('not ok 1\n')).toMatchObject({ known: false });
  });
});
