import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTextEditor, strReplace } from './str-replace.js';

describe('strReplace', () => {
  it('replaces the single occurrence and shows the edited lines numbered', () => {
    const text = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n');
    const replaced = strReplace(text, 'line 6', 'line six\nline 6b', 'f.txt');
    expect(replaced.ok && replaced.value.startLine).toBe(6);
    expect(replaced.ok && replaced.value.endLine).toBe(7);
    expect(replaced.ok && replaced.value.snippet.split('\n')).toEqual([
      '     2\tline 2', '     3\tline 3', '     4\tline 4', '     5\tline 5', '     6\tline six', '     7\tline 6b', '     8\tline 7', '     9\tline 8', '    10\tline 9', '    11\tline 10',
    ]);
  });

  it('lists the lines of every occurrence when old_str is not unique', () => {
    expect(strReplace('a\nb a\nc\na', 'a', 'x', 'f.txt')).toEqual({
      ok: false,
      error: { code: 'ambiguous-match', path: 'f.txt', line: 1, message: 'No replacement was performed. Multiple occurrences of old_str `a` in lines [1, 2, 4]. Please ensure it is unique.' },
    });
  });
});

describe('createTextEditor', () => {
  let ws: string;
  beforeEach(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-editor-unit-')));
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('creates, inserts, views and undoes, most recent change first', async () => {
    const concerns: string[] = [];
    const editor = createTextEditor({ workspace: ws, writeGuard: { acquire: async (c) => void concerns.push(...c) } });
    expect(await editor.run({ command: 'create', path: 'dir/a.txt', file_text: 'one\nthree\n' })).toEqual({ ok: true, output: 'File created successfully at: dir/a.txt', filesChanged: ['dir/a.txt'] });
    const inserted = await editor.run({ command: 'insert', path: 'dir/a.txt', insert_line: 1, new_str: 'two\n' });
    expect(inserted.ok).toBe(true);
    expect(readFileSync(join(ws, 'dir/a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(await editor.run({ command: 'view', path: 'dir/a.txt', view_range: [2, -1] })).toEqual({ ok: true, output: '     2\ttwo\n     3\tthree' });
    expect(await editor.run({ command: 'insert', path: 'dir/a.txt', insert_line: 9, new_str: 'x' })).toEqual({
      ok: false,
      code: 'invalid-parameter',
      output: 'Invalid `insert_line` parameter: 9. It should be within the range of lines of the file: [0, 3]',
    });
    expect((await editor.run({ command: 'undo_edit', path: 'dir/a.txt' })).ok).toBe(true);
    expect(readFileSync(join(ws, 'dir/a.txt'), 'utf8')).toBe('one\nthree\n');
    expect((await editor.run({ command: 'undo_edit', path: 'dir/a.txt' })).output).toBe('Undid the creation of dir/a.txt (file removed).');
    expect(existsSync(join(ws, 'dir/a.txt'))).toBe(false);
    expect(concerns.every((c) => c === `file:${join(ws, 'dir', 'a.txt')}`)).toBe(true);
    // Taken before reading, so also for the insert that then failed: create, insert, insert, undo, undo.
    expect(concerns.length).toBe(5);
  });

  it('rejects malformed commands with a message naming the parameter', async () => {
    const editor = createTextEditor({ workspace: ws });
    expect(await editor.run({ command: 'delete', path: 'a' })).toMatchObject({ ok: false, code: 'invalid-parameter' });
    expect(await editor.run({ command: 'str_replace', path: 'a', old_str: 3 })).toEqual({ ok: false, code: 'invalid-parameter', output: 'Parameter `old_str` must be a string.' });
    expect(await editor.run({ command: 'create', path: '../outside.txt', file_text: 'x' })).toMatchObject({ ok: false, code: 'invalid-parameter' });
    expect(existsSync(join(ws, '..', 'outside.txt'))).toBe(false);
  });

  it('does not record an undo step when the write guard refuses', async () => {
    writeFileSync(join(ws, 'a.txt'), 'x\n');
    const editor = createTextEditor({ workspace: ws, writeGuard: { acquire: async () => Promise.reject(new Error('lock held by executor-2')) } });
    const refused = await editor.run({ command: 'str_replace', path: 'a.txt', old_str: 'x', new_str: 'y' });
    expect(refused).toEqual({ ok: false, code: 'write-failed', output: 'nothing was changed: the write guard refused (lock held by executor-2)' });
    expect(await editor.run({ command: 'undo_edit', path: 'a.txt' })).toEqual({ ok: false, code: 'no-history', output: 'No edit history found for a.txt.' });
  });
});
