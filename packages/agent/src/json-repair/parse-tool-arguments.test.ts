import { parseToolArguments } from './parse-tool-arguments.js';

describe('parseToolArguments', () => {
  it('takes valid JSON as it is', () => {
    expect(parseToolArguments('{"path": "a.ts", "startLine": 2}')).toEqual({ ok: true, value: { path: 'a.ts', startLine: 2 }, repaired: false });
  });

  it('reads empty arguments as no arguments', () => {
    expect(parseToolArguments('  ')).toEqual({ ok: true, value: {}, repaired: false });
  });

  it('repairs what JSON.parse refuses and says so', () => {
    expect(parseToolArguments("{'path': 'a.ts', 'recursive': True,}")).toEqual({
      ok: true,
      value: { path: 'a.ts', recursive: true },
      repaired: true,
    });
    expect(parseToolArguments('{"path": "a.md", "content": "line one\nline "two"\n"}')).toEqual({
      ok: true,
      value: { path: 'a.md', content: 'line one\nline "two"\n' },
      repaired: true,
    });
  });

  it('unwraps arguments that were encoded as a JSON string', () => {
    expect(parseToolArguments('"{\\"path\\": \\"a.ts\\"}"')).toEqual({ ok: true, value: { path: 'a.ts' }, repaired: true });
  });

  it('tells the model what was wrong, where, with the line and a caret', () => {
    const result = parseToolArguments('{\n  "path": "a.ts",\n\t: true\n}');
    expect(result).toEqual({
      ok: false,
      message:
        'the arguments are not valid JSON: Object key expected at line 3, column 2:\n' +
        '   : true\n' +
        '   ^\n' +
        'Send the arguments as one JSON object, keys and strings in double quotes, e.g. {"name": "value"}.',
    });
    // Two calls' arguments run together: the model is pointed at the second object.
    const twice = parseToolArguments('{"path": "a.ts"}{"path": "b.ts"}');
    expect(twice).toMatchObject({ ok: false });
    if (!twice.ok) expect(twice.message).toMatch(/^the arguments are not valid JSON: Unexpected character "\{" at line 1, column 17:/);
  });

  it('cuts a long line around the problem', () => {
    const raw = `{"content": "${'x'.repeat(100)}", : 1}`;
    const result = parseToolArguments(raw);
    if (result.ok) throw new Error('expected a failure');
    const [, shown, caret] = result.message.split('\n');
    expect(shown).toBe(`  …${'x'.repeat(37)}", : 1}`);
    expect(caret!.indexOf('^')).toBe(shown!.indexOf(':'));
  });

  it('refuses values that are not an object', () => {
    expect(parseToolArguments('[1, 2]')).toEqual({
      ok: false,
      message:
        'the arguments must be a JSON object with the tool\'s parameters as keys, got an array. ' +
        'Send the arguments as one JSON object, keys and strings in double quotes, e.g. {"name": "value"}.',
    });
    const words = parseToolArguments('please read the file');
    expect(words).toMatchObject({ ok: false });
    if (!words.ok) expect(words.message).toContain('got a string ("please read the file") (after repairing the JSON)');
  });
});
