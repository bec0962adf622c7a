import { findFilename, parseSearchReplaceBlocks } from './search-replace-parser.js';

describe('parseSearchReplaceBlocks', () => {
  it('reads blocks in and out of fences, carries the filename over, and keeps shell blocks', () => {
    const reply = [
      'Change two things:',
      '',
      'src/app.py',
      '```python',
      '<<<<<<< SEARCH',
      'x = 1',
      '=======',
      'x = 2',
      '>>>>>>> REPLACE',
      '```',
      '',
      '```python',
      '<<<<<<< SEARCH',
      'y = 1',
      '=======',
      '>>>>>>> REPLACE',
      '```',
      '',
      '```bash',
      'python -m pytest',
      '```',
      '',
    ].join('\n');
    expect(parseSearchReplaceBlocks(reply)).toEqual({
      ok: true,
      value: [
        { kind: 'search-replace', path: 'src/app.py', search: 'x = 1\n', replace: 'x = 2\n', line: 5 },
        { kind: 'search-replace', path: 'src/app.py', search: 'y = 1\n', replace: '', line: 13 },
        { kind: 'shell', language: 'bash', script: 'python -m pytest\n', line: 19 },
      ],
    });
  });

  it('says which block lacks its divider, where it starts and where the reply ends', () => {
    const reply = 'a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n\nb.py\n<<<<<<< SEARCH\nold\nnew\n>>>>>>> REPLACE\n';
    expect(parseSearchReplaceBlocks(reply)).toEqual({
      ok: false,
      error: {
        code: 'missing-divider',
        block: 2,
        line: 9,
        message:
          'SEARCH/REPLACE block 2 (line 9 of your reply): missing ======= divider after line 12 (the block for b.py runs to the end of the reply). ' +
          'Each block needs <<<<<<< SEARCH, the exact old lines, =======, the new lines, >>>>>>> REPLACE.',
      },
    });
  });

  it('says which block lacks its REPLACE marker, naming the divider line', () => {
    const parsed = parseSearchReplaceBlocks('a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n');
    expect(parsed).toEqual({
      ok: false,
      error: {
        code: 'missing-replace-marker',
        block: 1,
        line: 2,
        message:
          'SEARCH/REPLACE block 1 (line 2 of your reply): missing >>>>>>> REPLACE after the ======= on line 4 (the block for a.py runs to the end of the reply). End each block with a >>>>>>> REPLACE line.',
      },
    });
  });

  it('says where the filename is missing and where it belongs', () => {
    const parsed = parseSearchReplaceBlocks('```\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toMatchObject({ code: 'missing-filename', block: 1, line: 2 });
      expect(parsed.error.message).toBe(
        'SEARCH/REPLACE block 1 (line 2 of your reply): no filename. Put the file path alone on the line before the opening fence (```), then the <<<<<<< SEARCH line.',
      );
    }
  });

  it('matches a sloppy filename to a known path, but not for a block that creates a file', () => {
    const edit = (name: string, search: string) => `${name}\n<<<<<<< SEARCH\n${search}=======\nx\n>>>>>>> REPLACE\n`;
    const known = { validPaths: ['src/utils/helpers.py'] };
    const sloppy = parseSearchReplaceBlocks(edit('helpers.py', 'a\n'), known);
    expect(sloppy.ok && sloppy.value[0]).toMatchObject({ path: 'src/utils/helpers.py' });
    const created = parseSearchReplaceBlocks(edit('helper.py', ''), known);
    expect(created.ok && created.value[0]).toMatchObject({ path: 'helper.py' });
  });
});

describe('findFilename', () => {
  it('strips the decoration models put around names and skips fence lines', () => {
    expect(findFilename(['**src/app.py**:', '```python'])).toBe('src/app.py');
    expect(findFilename(['### `lib/a.ts`'])).toBe('lib/a.ts');
    expect(findFilename(['```src/b.ts'])).toBe('src/b.ts');
    expect(findFilename(['...'])).toBeUndefined();
    expect(findFilename([])).toBeUndefined();
  });
});
