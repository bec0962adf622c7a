import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry } from '../default-tool-registry.js';
import type { ToolContext } from '../tool-registry.js';

const tools = createDefaultToolRegistry();
const patchCall = (patch: string, fuzz?: number) => ({ id: 'p', name: 'fs.apply_patch', argumentsJson: JSON.stringify(fuzz === undefined ? { patch } : { patch, fuzz }) });

describe('fs.apply_patch', () => {
  let ws: string;
  let acquired: string[][];
  let context: ToolContext;
  beforeEach(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-patch-')));
    acquired = [];
    context = { workspace: ws, writeGuard: { acquire: async (c) => void acquired.push(c) } };
    mkdirSync(join(ws, 'src'));
    writeFileSync(join(ws, 'src', 'a.js'), 'const a = 1;\nconst b = 2;\nconst c = 3;\n');
    writeFileSync(join(ws, 'old.txt'), 'bye\n');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('modifies, creates and deletes files in one patch, after taking every file\'s concern', async () => {
    const patch = [
      '```diff',
      'diff --git a/src/a.js b/src/a.js',
      '--- a/src/a.js',
      '+++ b/src/a.js',
      '@@ -5,2 +5,2 @@',
      ' const b = 2;',
      '-const c = 3;',
      '+const c = 4;',
      'diff --git a/src/new.js b/src/new.js',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/src/new.js',
      '@@ -0,0 +1 @@',
      '+export const x = 1;',
      'diff --git a/old.txt b/old.txt',
      'deleted file mode 100644',
      '--- a/old.txt',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      '```',
    ].join('\n');
    const result = await tools.run(patchCall(patch), context);
    expect(result).toEqual({
      ok: true,
      output: 'applied the patch: modified src/a.js [hunk 1 applied at line 2 (3 lines above its header)], created src/new.js, deleted old.txt',
      effects: { filesChanged: ['src/a.js', 'src/new.js', 'old.txt'] },
    });
    expect(acquired).toEqual([[`file:${join(ws, 'src', 'a.js')}`, `file:${join(ws, 'src', 'new.js')}`, `file:${join(ws, 'old.txt')}`]]);
    expect(readFileSync(join(ws, 'src', 'a.js'), 'utf8')).toBe('const a = 1;\nconst b = 2;\nconst c = 4;\n');
    expect(readFileSync(join(ws, 'src', 'new.js'), 'utf8')).toBe('export const x = 1;\n');
    expect(existsSync(join(ws, 'old.txt'))).toBe(false);
  });

  it('reads a/ and b/ in headers without diff --git as prefixes, unless the workspace has such a directory', async () => {
    const result = await tools.run(patchCall('--- /dev/null\n+++ b/src/new.js\n@@ -0,0 +1 @@\n+export const x = 1;\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n'), context);
    expect(result).toEqual({ ok: true, output: 'applied the patch: created src/new.js, deleted old.txt', effects: { filesChanged: ['src/new.js', 'old.txt'] } });
    expect(readFileSync(join(ws, 'src', 'new.js'), 'utf8')).toBe('export const x = 1;\n');
    expect(existsSync(join(ws, 'b'))).toBe(false);
    expect(existsSync(join(ws, 'old.txt'))).toBe(false);
    // A repository that really has a b/ directory gets the file where the header says.
    mkdirSync(join(ws, 'b'));
    const real = await tools.run(patchCall('--- /dev/null\n+++ b/notes.md\n@@ -0,0 +1 @@\n+hi\n'), context);
    expect(real.output).toBe('applied the patch: created b/notes.md');
    expect(readFileSync(join(ws, 'b', 'notes.md'), 'utf8')).toBe('hi\n');
  });

  it('writes nothing when a hunk of a later file fails, and names the file and hunk', async () => {
    const patch = '--- src/a.js\n+++ src/a.js\n@@ -1 +1 @@\n-const a = 1;\n+const a = 10;\n--- old.txt\n+++ old.txt\n@@ -1 +1 @@\n-bye now\n+hi\n';
    const result = await tools.run(patchCall(patch), context);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/^hunk 1 of 1 \(@@ -1,1 \+1,1 @@, diff line 8\) does not apply to old\.txt: /);
    expect(result.output).toContain('- hunk line 1: bye now\n+ file line 1: bye');
    expect(result.output).toMatch(/Nothing was changed\. If only context lines differ, fix them or retry with fuzz: 1\.$/);
    expect(readFileSync(join(ws, 'src', 'a.js'), 'utf8')).toBe('const a = 1;\nconst b = 2;\nconst c = 3;\n');
  });

  it('applies with fuzz when a context line differs', async () => {
    const patch = '--- src/a.js\n+++ src/a.js\n@@ -1,3 +1,3 @@\n const a = 100;\n const b = 2;\n-const c = 3;\n+const c = 30;\n';
    expect((await tools.run(patchCall(patch), context)).ok).toBe(false);
    const fuzzy = await tools.run(patchCall(patch, 1), context);
    expect(fuzzy).toEqual({
      ok: true,
      output: 'applied the patch: modified src/a.js [hunk 1 applied at line 1 ignoring 1 differing context line]',
      effects: { filesChanged: ['src/a.js'] },
    });
    expect(readFileSync(join(ws, 'src', 'a.js'), 'utf8')).toBe('const a = 1;\nconst b = 2;\nconst c = 30;\n');
  });

  it('refuses paths outside the workspace or in .git/, writing nothing', async () => {
    for (const path of ['../escape.txt', '/tmp/escape.txt', 'src/../../escape.txt', '.git/config']) {
      const patch = `--- src/a.js\n+++ src/a.js\n@@ -1 +1 @@\n-const a = 1;\n+const a = 2;\n--- /dev/null\n+++ ${path}\n@@ -0,0 +1 @@\n+owned\n`;
      const result = await tools.run(patchCall(patch), context);
      expect({ path, ok: result.ok }).toEqual({ path, ok: false });
      expect(result.output).toContain('nothing was changed: path');
    }
    expect(existsSync(join(ws, '..', 'escape.txt'))).toBe(false);
    expect(readFileSync(join(ws, 'src', 'a.js'), 'utf8')).toBe('const a = 1;\nconst b = 2;\nconst c = 3;\n');
    expect(acquired).toEqual([]);
  });

  it('writes nothing when the guard refuses', async () => {
    const refusing: ToolContext = { workspace: ws, writeGuard: { acquire: async () => Promise.reject(new Error('lock held by executor-2')) } };
    const result = await tools.run(patchCall('--- src/a.js\n+++ src/a.js\n@@ -1 +1 @@\n-const a = 1;\n+const a = 2;\n'), refusing);
    expect(result).toEqual({ ok: false, output: 'nothing was changed: the write guard refused (lock held by executor-2)' });
    expect(readFileSync(join(ws, 'src', 'a.js'), 'utf8')).toBe('const a = 1;\nconst b = 2;\nconst c = 3;\n');
  });

  it('explains a patch that is not a diff, a missing file and a creation over an existing file', async () => {
    expect(await tools.run(patchCall('please change a to 2'), context)).toEqual({
      ok: false,
      output: 'no unified diff found in patch: expected "--- path" and "+++ path" header lines followed by "@@ -a,b +c,d @@" hunks',
    });
    expect((await tools.run(patchCall('--- nope.js\n+++ nope.js\n@@ -1 +1 @@\n-a\n+b\n'), context)).output).toBe(
      'nope.js does not exist (to create it, use "--- /dev/null"); nothing was changed',
    );
    expect((await tools.run(patchCall('--- /dev/null\n+++ old.txt\n@@ -0,0 +1 @@\n+x\n'), context)).output).toBe(
      'the patch creates old.txt (--- /dev/null) but it already exists; nothing was changed',
    );
  });
});

describe('fs.edit', () => {
  it('edits through the guard and reports the new line numbers', async () => {
    const ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-edit-')));
    try {
      writeFileSync(join(ws, 'a.py'), 'def f():\n    return 1\n');
      const acquired: string[] = [];
      const result = await tools.run(
        { id: 'e', name: 'fs.edit', argumentsJson: JSON.stringify({ path: 'a.py', old_str: '    return 1', new_str: '    x = 1\n    return x' }) },
        { workspace: ws, writeGuard: { acquire: async (c) => void acquired.push(...c) } },
      );
      expect(result).toEqual({ ok: true, output: 'edited a.py: the replacement is now lines 2-3\n     1\tdef f():\n     2\t    x = 1\n     3\t    return x', effects: { filesChanged: ['a.py'] } });
      expect(acquired).toEqual([`file:${join(ws, 'a.py')}`]);
      const empty = await tools.run({ id: 'e', name: 'fs.edit', argumentsJson: JSON.stringify({ path: 'a.py', old_str: '', new_str: 'x' }) }, { workspace: ws });
      expect(empty.ok).toBe(false);
      expect(empty.output).toContain('invalid arguments for fs.edit: old_str:');
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});
