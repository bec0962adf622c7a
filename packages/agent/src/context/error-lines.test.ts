import { errorLines, isErrorLine } from './error-lines.js';

describe('errorLines', () => {
  it('finds exceptions, assertion lines, runner failures and tool errors, each once, trimmed', () => {
    const output = [
      'Traceback (most recent call last):',
      '  File "x.py", line 1, in <module>',
      "ModuleNotFoundError: No module named 'erfa'",
      ">       self.assertEqual(kwargs['model'], 'gpt-4')",
      "E       KeyError: 'model'",
      'E       assert 1 == 2',
      'FAILED tests/test_a.py::test_b - KeyError',
      "FAIL: 'validusername\\n' -> ASCII: PASS (expected FAIL)",
      '--- FAIL: TestParse (0.00s)',
      "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
      'error: pathspec "nope" did not match any file(s) known to git',
      'fatal: not a git repository',
      "ModuleNotFoundError: No module named 'erfa'",
      'AssertionError [ERR_ASSERTION]: Expected values to be strictly equal',
    ].join('\n');
    expect(errorLines(output)).toEqual([
      "ModuleNotFoundError: No module named 'erfa'",
      "E       KeyError: 'model'",
      'E       assert 1 == 2',
      'FAILED tests/test_a.py::test_b - KeyError',
      "FAIL: 'validusername\\n' -> ASCII: PASS (expected FAIL)",
      '--- FAIL: TestParse (0.00s)',
      "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
      'error: pathspec "nope" did not match any file(s) known to git',
      'fatal: not a git repository',
      'AssertionError [ERR_ASSERTION]: Expected values to be strictly equal',
    ]);
  });

  it('leaves out warnings, code that names an error, and a traceback header', () => {
    for (const line of ['DeprecationWarning: x is deprecated', 'raise TypeError("bad")', 'except ValueError:', 'Error: Traceback (most recent call last):', 'ok 1 - adds']) {
      expect(errorLines(line)).toEqual([]);
    }
    expect(isErrorLine('TypeError: a is not a function')).toBe(true);
  });

  it('cuts a very long line', () => {
    const [line] = errorLines(`ValueError: ${'x'.repeat(1000)}`);
    expect(line).toHaveLength(300);
  });
});
