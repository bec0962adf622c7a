import { detectTestCommand, makefileHasTestTarget } from './test-command.js';

describe('detectTestCommand', () => {
  it('uses npm test when package.json has a scripts.test', () => {
    const result = detectTestCommand({ packageJson: JSON.stringify({ scripts: { test: 'node --test' } }) });
    expect(result).toEqual({ ok: true, command: ['npm', 'test'], source: 'package.json scripts.test' });
  });

  it('ignores the npm init placeholder and falls back to the Makefile', () => {
    const result = detectTestCommand({
      packageJson: JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }),
      makefile: 'test:\n\tnode --test\n',
    });
    expect(result).toEqual({ ok: true, command: ['make', 'test'], source: 'Makefile test target' });
  });

  it('uses make test when only a Makefile with a test target exists', () => {
    expect(detectTestCommand({ makefile: 'all: build\n\ntest: all\n\t./run-tests\n' })).toMatchObject({
      ok: true,
      command: ['make', 'test'],
    });
  });

  it('explains why nothing was detected', () => {
    const result = detectTestCommand({ packageJson: '{"name":"x"}', makefile: 'build:\n\tcc main.c\n' });
    expect(result).toEqual({ ok: false, reason: 'package.json has no scripts.test, the Makefile has no test target' });
  });

  it('reports a package.json that is not JSON', () => {
    const result = detectTestCommand({ packageJson: '{ nope' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain('package.json is not valid JSON');
  });
});

describe('makefileHasTestTarget', () => {
  it.each([
    ['test:\n\techo hi', true],
    ['unit test lint:\n\techo hi', true],
    ['test: build\n', true],
    ['test::\n\techo double colon', true],
    ['.PHONY: test\nbuild:\n', false],
    ['test := value\n', false],
    ['test ::= value\n', false],
    ['\ttest:\n', false],
    ['# test:\n', false],
    ['testing:\n', false],
    ['test = 1\n', false],
  ])('%j → %s', (text, expected) => {
    expect(makefileHasTestTarget(text)).toBe(expected);
  });
});
