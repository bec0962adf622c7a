import { fenceFor } from './fence-line.js';
import { parseWholeFileBlocks, previewWholeFileEdit } from './whole-file-parser.js';

describe('parseWholeFileBlocks', () => {
  it('finds the name before the fence, in the info string, or after a heading', () => {
    const reply = 'src/a.ts\n```ts\nA\n```\n\n```python app/b.py\nB\n```\n\n### c.md\n````markdown\nC\n```\ninner\n```\n````\n';
    const parsed = parseWholeFileBlocks(reply);
    expect(parsed.ok && parsed.value.map((e) => [e.path, e.content, e.source])).toEqual([
      ['src/a.ts', 'A\n', 'named'],
      ['app/b.py', 'B\n', 'named'],
      ['c.md', 'C\n```\ninner\n```\n', 'named'],
    ]);
  });

  it('says which named block is never closed', () => {
    expect(parseWholeFileBlocks('notes.txt\n```\nunfinished\n')).toEqual({
      ok: false,
      error: {
        code: 'unclosed-fence',
        path: 'notes.txt',
        line: 2,
        message: "the ``` fence for notes.txt opened on line 2 is never closed; end the file's content with a line containing only ```.",
      },
    });
  });

  it('asks for a filename when no block can be attributed', () => {
    const parsed = parseWholeFileBlocks('Here you go:\n\n```\ncode\n```\n', { knownPaths: ['a.txt', 'b.txt'] });
    expect(parsed).toEqual({
      ok: false,
      error: {
        code: 'missing-filename',
        line: 3,
        message: "the fenced block on line 3 has no filename. Put the file's path alone on the line before the opening fence, then the complete new content of the file inside the fence.",
      },
    });
  });
});

describe('previewWholeFileEdit', () => {
  it('shows only the changes that have arrived in a streaming reply', () => {
    const original = 'one\ntwo\nthree\nfour\nfive\n';
    const parsed = parseWholeFileBlocks('f.txt\n```\none\nTWO\n', { partial: true });
    if (!parsed.ok || parsed.value[0] === undefined) throw new Error('expected a partial edit');
    expect(previewWholeFileEdit(original, parsed.value[0])).toBe('--- f.txt\n+++ f.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n... (3 more lines of f.txt not received yet)\n');
  });
});

describe('fenceFor', () => {
  it('picks a fence longer than any in the content', () => {
    expect(fenceFor('plain text')).toBe('```');
    expect(fenceFor('x\n```\ny\n```\n')).toBe('````');
    expect(fenceFor('  `````js\n')).toBe('``````');
  });
});
