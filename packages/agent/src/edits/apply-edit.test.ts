import { applySearchReplace } from './apply-edit.js';

const FILE = 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n';

describe('applySearchReplace', () => {
  it('replaces exact whole lines', () => {
    expect(applySearchReplace(FILE, { path: 'calc.py', search: '    return a - b\n', replace: '    return b - a\n' })).toEqual({
      ok: true,
      value: { text: FILE.replace('a - b', 'b - a'), method: 'exact', line: 6, notes: [] },
    });
  });

  it('re-indents when every line is shifted by the same prefix, and refuses mixed shifts', () => {
    const applied = applySearchReplace(FILE, { path: 'calc.py', search: 'return a - b\n', replace: 'if a:\n    return b - a\n' });
    expect(applied).toEqual({ ok: true, value: { text: FILE.replace('    return a - b\n', '    if a:\n        return b - a\n'), method: 'reindented', line: 6, notes: [] } });
    // "def sub" is at column 0 but "return" at 4: adding 2 spaces to both cannot be the file.
    const mixed = applySearchReplace(FILE, { path: 'calc.py', search: '  def sub(a, b):\n  return a - b\n', replace: 'x\n' });
    expect(mixed.ok).toBe(false);
  });

  it('replaces the first of several matches and says so', () => {
    const applied = applySearchReplace('x\ny\nx\n', { path: 'f.txt', search: 'x\n', replace: 'z\n' }, { block: 3 });
    expect(applied).toEqual({
      ok: true,
      value: { text: 'z\ny\nx\n', method: 'exact', line: 1, notes: ['the SEARCH text of SEARCH/REPLACE block 3 for f.txt occurs 2 times (lines 1, 3); the first, at line 1, was replaced'] },
    });
  });

  it('names the file, the block and the closest lines when SEARCH does not match', () => {
    const applied = applySearchReplace(FILE, { path: 'calc.py', search: 'def sub(a, b):\n    return a + b\n', replace: 'x\n' }, { block: 2 });
    expect(applied).toEqual({
      ok: false,
      error: {
        code: 'no-match',
        path: 'calc.py',
        block: 2,
        message:
          "SEARCH/REPLACE block 2 for calc.py: the SEARCH lines were not found in calc.py; SEARCH must match the file's lines exactly. " +
          'The closest lines in the file are lines 5-6 (91% similar). Where they differ (- your SEARCH, + the file):\n' +
          '- SEARCH line 2:     return a + b\n' +
          '+ file line 6:     return a - b\n' +
          'Copy the lines exactly as they appear in the file (re-read it if unsure).',
      },
    });
  });

  it('points out lines that differ only in whitespace', () => {
    const applied = applySearchReplace('a = 1\nb = 2  \n', { path: 'f.py', search: 'a = 1\nb = 2\n', replace: 'x\n' });
    expect(!applied.ok && applied.error.message).toContain('- SEARCH line 2: "b = 2"   (differs only in whitespace)\n+ file line 2: "b = 2  "\n');
  });

  it('creates a missing file from an empty SEARCH, appends to an existing one, and refuses other edits to missing files', () => {
    expect(applySearchReplace(undefined, { path: 'new.txt', search: '', replace: 'hello\n' })).toEqual({ ok: true, value: { text: 'hello\n', method: 'created', line: 1, notes: [] } });
    const appended = applySearchReplace('a', { path: 'old.txt', search: '', replace: 'b\n' });
    expect(appended.ok && appended.value.text).toBe('a\nb\n');
    expect(applySearchReplace(undefined, { path: 'gone.txt', search: 'x\n', replace: 'y\n' })).toEqual({
      ok: false,
      error: { code: 'file-state', path: 'gone.txt', message: 'SEARCH/REPLACE for gone.txt: gone.txt does not exist. To create it, leave the SEARCH section empty and put the whole file in REPLACE.' },
    });
  });

  it('keeps CRLF files CRLF and a missing final newline missing', () => {
    const crlf = applySearchReplace('a\r\nb\r\nc\r\n', { path: 'w.txt', search: 'b\n', replace: 'B\nB2\n' });
    expect(crlf.ok && crlf.value.text).toBe('a\r\nB\r\nB2\r\nc\r\n');
    const noEol = applySearchReplace('a\nlast', { path: 'n.txt', search: 'last\n', replace: 'final\n' });
    expect(noEol.ok && noEol.value.text).toBe('a\nfinal');
  });
});
