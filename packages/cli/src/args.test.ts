import { UsageError, parseCommandArgs, positiveIntOption, positiveNumberOption, stringListOption, type CommandSpec } from './args.js';

const spec: CommandSpec = {
  name: 'run',
  usage: 'usage: maestro run',
  options: { repo: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' }, 'budget-usd': { type: 'string' }, tag: { type: 'string', multiple: true } },
  positionals: ['goal', 'extra?'],
};

function usageError(argv: string[]): string {
  try {
    parseCommandArgs(spec, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseCommandArgs', () => {
  it('parses options and positionals', () => {
    expect(parseCommandArgs(spec, ['do it', '--repo', '/r', '--json'])).toEqual({
      values: { repo: '/r', json: true },
      positionals: ['do it'],
    });
  });

  it('returns undefined for --help and -h, whatever else is there', () => {
    expect(parseCommandArgs(spec, ['--help'])).toBeUndefined();
    expect(parseCommandArgs(spec, ['-h', 'x'])).toBeUndefined();
  });

  it('names an unknown option', () => {
    expect(usageError(['goal', '--colour'])).toBe('unknown option --colour');
  });

  it('names an option missing its value, and a boolean given one', () => {
    expect(usageError(['goal', '--repo'])).toBe('option --repo needs a value');
    expect(usageError(['goal', '--json=yes'])).toBe('option --json takes no value');
  });

  it('explains how to pass a value that starts with a dash', () => {
    expect(usageError(['goal', '--budget-usd', '-1'])).toBe('option --budget-usd: a value starting with "-" must be written --budget-usd=<value>');
  });

  it('names a missing positional and refuses extra ones', () => {
    expect(usageError([])).toBe('missing <goal>');
    expect(usageError(['a', 'b', 'c'])).toBe('unexpected argument "c"');
  });
});

describe('number options', () => {
  const parsed = (argv: string[]) => parseCommandArgs(spec, ['goal', ...argv])!;

  it('takes whole numbers in range and names the option otherwise', () => {
    expect(positiveIntOption(parsed(['--limit', '20']), 'limit', 500)).toBe(20);
    expect(positiveIntOption(parsed([]), 'limit', 500)).toBeUndefined();
    for (const bad of ['0', '501', '2.5', 'many', '']) {
      expect(() => positiveIntOption(parsed(['--limit', bad]), 'limit', 500)).toThrow(`--limit: expected a whole number from 1 to 500, got "${bad}"`);
    }
  });

  it('takes positive numbers and names the option otherwise', () => {
    expect(positiveNumberOption(parsed(['--budget-usd', '0.25']), 'budget-usd')).toBe(0.25);
    for (const bad of ['0', '=-1', 'ten', ' ', 'Infinity']) {
      const argv = bad.startsWith('=') ? [`--budget-usd${bad}`] : ['--budget-usd', bad];
      expect(() => positiveNumberOption(parsed(argv), 'budget-usd')).toThrow(/^--budget-usd: expected a positive number/);
    }
  });
});

describe('repeatable options', () => {
  it('gives every value in order, [] when the option was not given, and names one missing its value', () => {
    expect(stringListOption(parseCommandArgs(spec, ['goal', '--tag', 'a', '--repo', '/r', '--tag=b'])!, 'tag')).toEqual(['a', 'b']);
    expect(stringListOption(parseCommandArgs(spec, ['goal'])!, 'tag')).toEqual([]);
    expect(stringListOption(parseCommandArgs(spec, ['goal', '--repo', '/r'])!, 'repo')).toEqual(['/r']);
    expect(usageError(['goal', '--tag', 'a', '--tag'])).toBe('option --tag needs a value');
  });
});
