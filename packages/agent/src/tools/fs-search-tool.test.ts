import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry } from '../default-tool-registry.js';
import type { ToolContext } from '../tool-registry.js';

const tools = createDefaultToolRegistry();
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const search = (context: ToolContext, args: Record<string, unknown>) => tools.run({ id: 's', name: 'fs.search', argumentsJson: JSON.stringify(args) }, context);

describe('fs.search', () => {
  let ws: string;
  let outside: string;
  let context: ToolContext;
  beforeEach(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-search-')));
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-outside-')));
    context = { workspace: ws };
    mkdirSync(join(ws, 'src', 'lib'), { recursive: true });
    mkdirSync(join(ws, 'dist'));
    mkdirSync(join(ws, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(ws, 'src', 'sum.js'), 'exports.sum = (a, b) => a + b;\n// TODO: handle strings\n');
    writeFileSync(join(ws, 'src', 'lib', 'util.js'), 'function todo() {}\r\nconst x = "TODO later";\r\n');
    writeFileSync(join(ws, 'dist', 'sum.min.js'), 'TODO in build output\n');
    writeFileSync(join(ws, 'node_modules', 'dep', 'index.js'), 'TODO in a dependency\n');
    writeFileSync(join(ws, 'debug.log'), 'TODO in a log\n');
    writeFileSync(join(ws, '.gitignore'), 'dist/\nnode_modules/\n*.log\n');
    writeFileSync(join(outside, 'secret.txt'), 'TODO secret outside the workspace\n');
  });
  afterEach(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('searches tracked and untracked files of a git repository, skipping what .gitignore excludes and symlinks', async () => {
    git(ws, 'init', '-q');
    git(ws, 'add', 'src/sum.js', '.gitignore');
    // Untracked, not ignored: searched. A link to a file outside the workspace: never followed.
    writeFileSync(join(ws, 'notes.md'), 'TODO: write docs\n');
    symlinkSync(join(outside, 'secret.txt'), join(ws, 'linked.txt'));
    expect(await search(context, { pattern: 'TODO' })).toEqual({
      ok: true,
      output: ['notes.md:1: TODO: write docs', 'src/lib/util.js:2: const x = "TODO later";', 'src/sum.js:2: // TODO: handle strings'].join('\n'),
    });
    expect((await search(context, { pattern: 'todo', ignoreCase: true, path: 'src' })).output).toBe(
      ['src/lib/util.js:1: function todo() {}', 'src/lib/util.js:2: const x = "TODO later";', 'src/sum.js:2: // TODO: handle strings'].join('\n'),
    );
    // A file named directly is searched even when ignored.
    expect((await search(context, { pattern: 'TODO', path: 'debug.log' })).output).toBe('debug.log:1: TODO in a log');
    expect((await search(context, { pattern: 'secret' })).output).toBe('no matches for /secret/ in . (4 files searched)');
  });

  it('does not read a tracked file through a directory that was replaced by a link to the outside', async () => {
    git(ws, 'init', '-q');
    mkdirSync(join(ws, 'sub'));
    writeFileSync(join(ws, 'sub', 'a.txt'), 'TODO inside\n');
    git(ws, 'add', 'sub/a.txt', '.gitignore');
    rmSync(join(ws, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'a.txt'), 'TODO secret in a file git thinks is sub/a.txt\n');
    symlinkSync(outside, join(ws, 'sub'));
    const result = await search(context, { pattern: 'secret' });
    expect(result).toEqual({ ok: true, output: 'no matches for /secret/ in . (3 files searched)' });
  });

  it('walks the tree without .git and node_modules when the workspace is not a git repository', async () => {
    mkdirSync(join(ws, '.git'));
    writeFileSync(join(ws, '.git', 'HEAD'), 'TODO in git internals\n');
    const result = await search(context, { pattern: 'TODO in' });
    expect(result.output).toBe(['debug.log:1: TODO in a log', 'dist/sum.min.js:1: TODO in build output'].join('\n'));
  });

  it('caps the matches and long lines, and says how many were left out and what was skipped', async () => {
    writeFileSync(join(ws, 'many.txt'), Array.from({ length: 150 }, (_, i) => `hit ${i}`).join('\n'));
    writeFileSync(join(ws, 'long.txt'), `${'x'.repeat(5_000)}NEEDLE${'y'.repeat(5_000)}\n`);
    writeFileSync(join(ws, 'image.bin'), Buffer.from([0x89, 0x50, 0x00, 0x01, 0x68, 0x69, 0x74]));
    writeFileSync(join(ws, 'big.txt'), `hit\n${'z'.repeat(1_100_000)}`);
    const many = await search(context, { pattern: '^hit', path: '.', maxResults: 5 });
    expect(many.output.split('\n')).toEqual([
      'many.txt:1: hit 0',
      'many.txt:2: hit 1',
      'many.txt:3: hit 2',
      'many.txt:4: hit 3',
      'many.txt:5: hit 4',
      '[showing 5 of 150 matching lines in 1 files; 145 not shown — narrow the pattern or the path]',
      '[skipped 1 file over 1 MB and 1 binary file]',
    ]);
    const long = await search(context, { pattern: 'NEEDLE', path: 'long.txt' });
    const line = long.output.replace(/^long\.txt:1: /, '');
    expect(line).toMatch(/^…x+NEEDLEy+…$/);
    expect(line.length).toBe(202);
  });

  it('explains a bad pattern, a missing path and a path outside the workspace', async () => {
    expect((await search(context, { pattern: '(unclosed' })).output).toMatch(/^pattern is not a valid regular expression: Invalid regular expression/);
    expect((await search(context, { pattern: 'x', path: 'nope' })).output).toBe('nope does not exist');
    expect((await search(context, { pattern: 'TODO', path: '../' + outside.split('/').pop() })).output).toMatch(/is refused: it leads outside the workspace/);
  });

  it('stops a pattern that backtracks without end, and says why', async () => {
    writeFileSync(join(ws, 'evil.txt'), `${'a'.repeat(40)}!\n`);
    const result = await search({ ...context, execTimeoutMs: 500 }, { pattern: '^(a+)+$', path: 'evil.txt' });
    expect(result).toEqual({
      ok: false,
      output: 'fs.search stopped after 500 ms without finishing: simplify the pattern (nested quantifiers like (a+)+ backtrack badly) or search a smaller path',
    });
  });
});
