import { JsonRepairError } from './json-repair-error.js';
import { repairJson } from './repair-json.js';

/** The value the repaired text stands for (every repair must also be valid JSON). */
function value(text: string): unknown {
  return JSON.parse(repairJson(text));
}

function repairError(text: string): { problem: string; position: number } {
  try {
    repairJson(text);
  } catch (err) {
    if (err instanceof JsonRepairError) return { problem: err.problem, position: err.position };
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be unrepairable`);
}

describe('repairJson', () => {
  it('leaves valid JSON as it is', () => {
    const text = '{\n  "n": -1.5e3, "s": "a/b c", "t": [true, false, null, {}, []], "k★": "😀"\n}';
    expect(repairJson(text)).toBe(text);
    // Escapes are decoded and written again: the value is the same, the spelling may differ.
    expect(value('{"s": "a\\"b\\\\c\\u00e9\\n\\ud83d\\ude00"}')).toEqual({ s: 'a"b\\cé\n😀' });
    expect(value(' [ 0 , 0.0, -0, 0e+2 ] ')).toEqual([0, 0, -0, 0]);
  });

  it('quotes unquoted keys and words', () => {
    expect(value('{name: tool, count: 3}')).toEqual({ name: 'tool', count: 3 });
    expect(value('{7: seven, null: x}')).toEqual({ 7: 'seven', null: 'x' });
    expect(value('[left, right]')).toEqual(['left', 'right']);
    expect(value('just some words')).toBe('just some words');
    expect(value('{note: it is done\nnext: 1}')).toEqual({ note: 'it is done', next: 1 });
    expect(value('{home: https://example.org/docs?q=1}')).toEqual({ home: 'https://example.org/docs?q=1' });
  });

  it('keeps words that only start like a keyword', () => {
    expect(value('[nullable, truest, false_alarm]')).toEqual(['nullable', 'truest', 'false_alarm']);
  });

  it('replaces single and typographic quotes', () => {
    expect(value("{'k': 'v'}")).toEqual({ k: 'v' });
    expect(value('{“k”: “v”, ‘x’: `y´}')).toEqual({ k: 'v', x: 'y' });
    expect(value("'say \"hi\"'")).toBe('say "hi"');
    expect(value('"curly “ stays"')).toBe('curly “ stays');
    expect(value("{s: 'it’s'}")).toEqual({ s: 'it’s' });
  });

  it('adds a missing end quote', () => {
    expect(value('"unfinished')).toBe('unfinished');
    expect(value('{"at": "10:45}')).toEqual({ at: '10:45' });
    expect(value('["red, green]')).toEqual(['red', 'green']);
    expect(value('{"a": "x, "b": "y"}')).toEqual({ a: 'x', b: 'y' });
    expect(value('{"a": "x,y, "b": 1}')).toEqual({ a: 'x,y', b: 1 });
    expect(value('[\n"one,\n"two"\n]')).toEqual(['one', 'two']);
    expect(value('[\n["deep\n]\n]')).toEqual([['deep']]);
  });

  it('adds a missing start quote', () => {
    expect(value('{key": "v"}')).toEqual({ key: 'v' });
    expect(value('{"a": v", "b": w"}')).toEqual({ a: 'v', b: 'w' });
    expect(value('[x", "y"]')).toEqual(['x', 'y']);
  });

  it('escapes quotes that were meant as text', () => {
    expect(value('"a 12" ruler"')).toBe('a 12" ruler');
    expect(value('{"msg": "fix "quoted" names", "n": 1}')).toEqual({ msg: 'fix "quoted" names', n: 1 });
    expect(value('"tall (6") man"')).toBe('tall (6") man');
    expect(value('"size 12""')).toBe('size 12"');
    expect(value('"see [2"] below"')).toBe('see [2"] below');
  });

  it('escapes raw control characters and keeps invalid escapes readable', () => {
    expect(value('"tab\there\nnew line"')).toBe('tab\there\nnew line');
    expect(value('{"multi\nline": 1}')).toEqual({ 'multi\nline': 1 });
    expect(value('"a\\qb \\\' c"')).toBe("aqb ' c");
    expect(value('"joined \\\nline"')).toBe('joined \nline');
  });

  it('repairs truncated input', () => {
    expect(value('{"path": "src/a.ts", "content": "export const')).toEqual({ path: 'src/a.ts', content: 'export const' });
    expect(value('{"items": [1, 2, {"x": ')).toEqual({ items: [1, 2, { x: null }] });
    expect(value('{"k"')).toEqual({ k: null });
    expect(value('{"unfinished key')).toEqual({ 'unfinished key': null });
    expect(value('["ok", "esc \\u00')).toEqual(['ok', 'esc']);
    expect(value('{"n": 3.')).toEqual({ n: 3 });
    expect(value('[1e')).toEqual([1]);
    expect(value('[-')).toEqual([-0]);
  });

  it('repairs numbers', () => {
    expect(value('[.25, -.5, 7., .]')).toEqual([0.25, -0.5, 7, 0]);
    expect(value('{"big": 12345678901234567890123}')).toEqual({ big: 12345678901234567890123 });
    expect(repairJson('[12345678901234567890123]')).toBe('[12345678901234567890123]');
  });

  it('turns what is not a number into a string', () => {
    expect(value('[1.2.3, 007, 2025-01-31, 1e2e3, -x]')).toEqual(['1.2.3', '007', '2025-01-31', '1e2e3', '-x']);
    expect(value('{"id": 3f2a-11}')).toEqual({ id: '3f2a-11' });
  });

  it('replaces Python constants and undefined', () => {
    expect(value('{"a": True, "b": False, "c": None, "d": undefined}')).toEqual({ a: true, b: false, c: null, d: null });
  });

  it('strips comments outside strings only', () => {
    expect(value('/* head */ {"a": 1, // why\n "b": /* inline */ 2} /* tail')).toEqual({ a: 1, b: 2 });
    expect(value('{"url": "http://x // not a comment /* nor this */"}')).toEqual({ url: 'http://x // not a comment /* nor this */' });
  });

  it('removes trailing and leading commas and adds missing ones', () => {
    expect(value('{, "a": 1, "b": [, 1, 2,], }')).toEqual({ a: 1, b: [1, 2] });
    expect(value('{"a": 1\n"b": 2 c: 3}')).toEqual({ a: 1, b: 2, c: 3 });
    expect(value('[1 2\n3 "x" {} []]')).toEqual([1, 2, 3, 'x', {}, []]);
    expect(value('[7],')).toEqual([7]);
    expect(repairJson('[1,\n2,\n]')).toBe('[1,\n2\n]');
  });

  it('adds a missing colon or value', () => {
    expect(value('{"a" 1, "b" "two", c true, first name: x}')).toEqual({ a: 1, b: 'two', c: true, 'first name': 'x' });
    expect(value('{"a": , "b": }')).toEqual({ a: null, b: null });
  });

  it('closes unclosed brackets and drops redundant ones', () => {
    expect(value('{"a": [1, {"b": 2')).toEqual({ a: [1, { b: 2 }] });
    expect(value('[{"a": 1]')).toEqual([{ a: 1 }]);
    expect(value('{"a": [1}')).toEqual({ a: [1] });
    expect(value('[{"a": 1 {"a": 2}]')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(value('{"a": 1}]}')).toEqual({ a: 1 });
    expect(value('{"a": 1]')).toEqual({ a: 1 });
  });

  it('drops ellipses', () => {
    expect(value('[1, 2, ..., 10]')).toEqual([1, 2, 10]);
    expect(value('{"a": 1, … }')).toEqual({ a: 1 });
  });

  it('concatenates strings', () => {
    expect(value('{"s": "con" + \'cat\' + /* c */ "enated"}')).toEqual({ s: 'concatenated' });
    expect(value('"dangling" +')).toBe('dangling');
  });

  it('strips code fences, JSONP and MongoDB wrappers', () => {
    expect(value('```json\n{"a": 1}\n```')).toEqual({ a: 1 });
    expect(value('  ```\n[1]\n```  ')).toEqual([1]);
    expect(value('{```json\n{"a": 1}\n```}')).toEqual({ a: 1 });
    expect(value('handler({"a": 1});')).toEqual({ a: 1 });
    expect(value('{"id": ObjectId("5f1"), "n": NumberInt(4), "t": ISODate("2020-01-01")}')).toEqual({ id: '5f1', n: 4, t: '2020-01-01' });
  });

  it('wraps newline-delimited or comma-separated values in an array', () => {
    expect(value('{"a": 1}\n{"a": 2}\n')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(value('x, y, z,')).toEqual(['x', 'y', 'z']);
  });

  it('turns regular expressions into strings and leaves paths whole', () => {
    expect(value('{"re": /^a+$/i}')).toEqual({ re: '/^a+$/i' });
    expect(value('{cmd: /usr/bin/env}')).toEqual({ cmd: '/usr/bin/env' });
  });

  it('undoes one level of escaping around a whole document', () => {
    expect(value('{\\"cmd\\": \\"say \\\\"hi\\\\"\\"}')).toEqual({ cmd: 'say "hi"' });
  });

  it('treats special white space as white space outside strings', () => {
    expect(value('{"a":\u00a0"b\u00a0c",\u200b"d":\u3000"e"}')).toEqual({ a: 'b\u00a0c', d: 'e' });
  });

  it('repairs what models write as tool-call arguments', () => {
    expect(value('{"path": "a.py", "content": "def f():\n    return "hi"\n"}')).toEqual({ path: 'a.py', content: 'def f():\n    return "hi"\n' });
    expect(value('{"path": "a.js", "content": "log("a", "b");"}')).toEqual({ path: 'a.js', content: 'log("a", "b");' });
    expect(value('{"content": "if (a) { return "x"}\nelse {}"}')).toEqual({ content: 'if (a) { return "x"}\nelse {}' });
    expect(value('{"content": "one\ntwo "q", three\n"}')).toEqual({ content: 'one\ntwo "q", three\n' });
    expect(value("{'argv': ['ls', '-la'], 'recursive': True,}")).toEqual({ argv: ['ls', '-la'], recursive: true });
  });

  it('throws a JsonRepairError with the problem and its position', () => {
    expect(repairError('')).toEqual({ problem: 'Unexpected end of json string', position: 0 });
    expect(repairError('{"k", 1}')).toEqual({ problem: 'Colon expected', position: 4 });
    expect(repairError('{: 1}')).toEqual({ problem: 'Object key expected', position: 1 });
    expect(repairError('[1]{}')).toEqual({ problem: 'Unexpected character "{"', position: 3 });
    expect(repairError('["a": 1]')).toEqual({ problem: 'Unexpected character ":"', position: 4 });
    expect(repairError('"\\u12G4"')).toEqual({ problem: 'Invalid unicode character "\\u12G4"', position: 1 });
    expect(repairError('"nul\u0000"')).toEqual({ problem: 'Invalid character "\\u0000"', position: 4 });
    expect(repairError('['.repeat(5000))).toEqual({ problem: 'Nested deeper than 1000 levels', position: 1000 });
    const error = (() => {
      try {
        return repairJson('{"a" ]');
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(JsonRepairError);
    expect(error).toMatchObject({ code: 'JSON_REPAIR_FAILED', message: 'Colon expected at position 5' });
  });

  it('always writes valid JSON or throws JsonRepairError, for mangled input', () => {
    // A seeded generator: valid documents, then characters inserted, deleted, or the end cut off.
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = ['"', "'", '{', '}', '[', ']', ',', ':', ' ', '\n', 'x', '7', '\\', '/', '*', '+', '.', '-', '`', '“', '(', ')', 'None', '...', '```'];
    const documents = [
      '{"path": "src/a.ts", "content": "const a = \\"x\\";\\n", "n": [1, 2.5, -3e2, true, null]}',
      "{'argv': ['git', 'commit', '-m', 'fix: it\\'s done'], cwd: ., timeoutMs: 1000}",
      '[{"a": {"b": [{"c": "d"}]}}, "e", 0.5]',
    ];
    const problems: string[] = [];
    for (let round = 0; round < 5000; round++) {
      let text = documents[random(documents.length)]!;
      for (let edit = 0, edits = 1 + random(4); edit < edits; edit++) {
        const at = random(text.length + 1);
        const kind = random(3);
        if (kind === 0) text = text.slice(0, at) + pieces[random(pieces.length)]! + text.slice(at);
        else if (kind === 1) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at);
      }
      try {
        JSON.parse(repairJson(text));
      } catch (err) {
        if (!(err instanceof JsonRepairError)) problems.push(`${JSON.stringify(text)}: ${String(err)}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
