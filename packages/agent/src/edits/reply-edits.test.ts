import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyReplyEdits, extractEdits } from './reply-edits.js';

describe('extractEdits', () => {
  it('recognises each format, and a reply without edits', () => {
    const sr = extractEdits('a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n');
    expect(sr.ok && [sr.value.format, sr.value.edits.map((e) => e.path)]).toEqual(['search-replace', ['a.py']]);
    const diff = extractEdits('```diff\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n```\n');
    expect(diff.ok && [diff.value.format, diff.value.edits.map((e) => e.path)]).toEqual(['unified-diff', ['a.py']]);
    const whole = extractEdits('a.py\n```python\ny\n```\n');
    expect(whole.ok && [whole.value.format, whole.value.edits.map((e) => e.path)]).toEqual(['whole-file', ['a.py']]);
    expect(extractEdits('All tests pass now. Done!\n\n```\nnpm test\n```\n')).toEqual({ ok: true, value: { format: 'none', edits: [], shell: [] } });
  });

  it('drops a/ and b/ from diff headers without diff --git unless a known file lies in such a directory, and limits the formats on request', () => {
    const created = extractEdits('```diff\n--- /dev/null\n+++ b/src/new.js\n@@ -0,0 +1 @@\n+x\n```\n', { knownPaths: ['src/a.js'] });
    expect(created.ok && created.value.edits.map((e) => e.path)).toEqual(['src/new.js']);
    const realDir = extractEdits('```diff\n--- /dev/null\n+++ b/new.js\n@@ -0,0 +1 @@\n+x\n```\n', { knownPaths: ['b/old.js'] });
    expect(realDir.ok && realDir.value.edits.map((e) => e.path)).toEqual(['b/new.js']);
    expect(extractEdits('a.py\n```python\ny\n```\n', { formats: ['search-replace', 'unified-diff'] })).toEqual({ ok: true, value: { format: 'none', edits: [], shell: [] } });
  });

  it('matches whole-file names by basename only into directories that do not exist, and not at all when told', () => {
    const bogus = extractEdits('path/to/calc.js\n```js\nx\n```\n', { knownPaths: ['src/calc.js'] });
    expect(bogus.ok && bogus.value.edits.map((e) => e.path)).toEqual(['src/calc.js']);
    const existingDir = extractEdits('lib/calc.js\n```js\nx\n```\n', { knownPaths: ['src/calc.js', 'lib/util.js'] });
    expect(existingDir.ok && existingDir.value.edits.map((e) => e.path)).toEqual(['lib/calc.js']);
    const strict = extractEdits('path/to/calc.js\n```js\nx\n```\n', { knownPaths: ['src/calc.js'], matchBasenames: false });
    expect(strict.ok && strict.value.edits.map((e) => e.path)).toEqual(['path/to/calc.js']);
  });

  it('tells the model what is wrong with a malformed reply and that nothing was applied', () => {
    const found = extractEdits('a.py\n<<<<<<< SEARCH\nx\n=======\ny\n\nb.py\n<<<<<<< SEARCH\nz\n=======\nw\n>>>>>>> REPLACE\n');
    // Block 1 has no >>>>>>> REPLACE: its text runs into block 2, which must not be written.
    expect(found).toEqual({
      ok: false,
      error: {
        code: 'missing-replace-marker',
        block: 1,
        line: 2,
        message:
          'Could not read the edits in your reply: SEARCH/REPLACE block 1 (line 2 of your reply): missing >>>>>>> REPLACE after the ======= on line 4: ' +
          'the next <<<<<<< SEARCH (line 8) starts before this block ends. End each block with a >>>>>>> REPLACE line. ' +
          'No edits from this reply were applied; send the corrected edits again.',
      },
    });
  });

  it('with a required format, a reply without edits is an error that shows the format', () => {
    const found = extractEdits('I think the bug is in add().', { format: 'search-replace' });
    expect(found).toEqual({
      ok: false,
      error: {
        code: 'no-edits',
        message:
          'Could not read the edits in your reply: the reply contains no edits. Use SEARCH/REPLACE blocks: the file path on its own line, then <<<<<<< SEARCH, the exact lines to change, =======, the new lines, >>>>>>> REPLACE. No edits from this reply were applied; send the corrected edits again.',
      },
    });
  });
});

describe('applyReplyEdits', () => {
  let ws: string;
  beforeEach(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-reply-')));
    writeFileSync(join(ws, 'a.py'), 'x = 1\n');
    writeFileSync(join(ws, 'b.py'), 'y = 1\n');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('writes nothing when one of the edits does not apply, and names that edit', async () => {
    const found = extractEdits('a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n\nb.py\n<<<<<<< SEARCH\ny = 9\n=======\ny = 2\n>>>>>>> REPLACE\n\nc.py\n<<<<<<< SEARCH\n=======\nz = 1\n>>>>>>> REPLACE\n');
    if (!found.ok) throw new Error(found.error.message);
    const result = await applyReplyEdits(ws, found.value.edits);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatchObject({ code: 'no-match', path: 'b.py', block: 2 });
      expect(result.error.message).toMatch(/^SEARCH\/REPLACE block 2 for b\.py: the SEARCH lines were not found in b\.py;/);
      expect(result.error.message).toContain('- SEARCH line 1: y = 9\n+ file line 1: y = 1');
    }
    expect(readFileSync(join(ws, 'a.py'), 'utf8')).toBe('x = 1\n');
    expect(existsSync(join(ws, 'c.py'))).toBe(false);
  });

  it('applies every edit in order, several per file, and takes the guard for all files first', async () => {
    const found = extractEdits('a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n\na.py\n<<<<<<< SEARCH\nx = 2\n=======\nx = 3\n>>>>>>> REPLACE\n\nnew/c.py\n<<<<<<< SEARCH\n=======\nz = 1\n>>>>>>> REPLACE\n');
    if (!found.ok) throw new Error(found.error.message);
    const acquired: string[][] = [];
    const result = await applyReplyEdits(ws, found.value.edits, { writeGuard: { acquire: async (c) => void acquired.push(c) } });
    expect(result).toEqual({
      ok: true,
      value: {
        files: [
          { path: 'a.py', action: 'modified' },
          { path: 'new/c.py', action: 'created' },
        ],
        notes: [],
        summary: 'Applied 3 edits: modified a.py, created new/c.py.',
      },
    });
    expect(acquired).toEqual([[`file:${join(ws, 'a.py')}`, `file:${join(ws, 'new', 'c.py')}`]]);
    expect(readFileSync(join(ws, 'a.py'), 'utf8')).toBe('x = 3\n');
    expect(readFileSync(join(ws, 'new/c.py'), 'utf8')).toBe('z = 1\n');
  });

  it('refuses paths outside the workspace before touching anything', async () => {
    const found = extractEdits('a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n\n../escape.py\n<<<<<<< SEARCH\n=======\nevil\n>>>>>>> REPLACE\n');
    if (!found.ok) throw new Error(found.error.message);
    const result = await applyReplyEdits(ws, found.value.edits);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toBe('nothing was changed: path "../escape.py" is refused: it leads outside the workspace');
    expect(readFileSync(join(ws, 'a.py'), 'utf8')).toBe('x = 1\n');
    expect(existsSync(join(ws, '..', 'escape.py'))).toBe(false);
  });
});
