import { failureMessages } from './test-gate.js';

describe('failureMessages', () => {
  it('reads the message of a TAP failure as node --test prints it', () => {
    const tap = [
      'not ok 1 - add adds two numbers',
      '  ---',
      '  duration_ms: 0.9',
      "  failureType: 'testCodeFailure'",
      '  error: |-',
      '    Expected values to be strictly equal:',
      '    ',
      '    -1 !== 5',
      '    ',
      "  code: 'ERR_ASSERTION'",
      "  error: 'boom from a one-line error'",
    ].join('\n');
    expect(failureMessages(tap)).toEqual(['Expected values to be strictly equal:', 'boom from a one-line error']);
  });

  it('reads exception lines verbatim, pytest gutter dropped, each once, at most five', () => {
    const output = [
      'E   KeyError: \'model\'',
      'AssertionError [ERR_ASSERTION]: 1 == 2',
      'AssertionError [ERR_ASSERTION]: 1 == 2',
      'TypeError: x is not a function',
      'ValueError: a',
      'ValueError: bad value 2',
      'RuntimeError: number five',
      'OSError: number six',
    ].join('\n');
    const messages = failureMessages(output);
    expect(messages).toEqual(["KeyError: 'model'", 'AssertionError [ERR_ASSERTION]: 1 == 2', 'TypeError: x is not a function', 'ValueError: a', 'ValueError: bad value 2']);
    for (const message of messages) expect(output).toContain(message);
  });
});
