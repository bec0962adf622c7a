import { applyFilePatch, applyPatch, createUnifiedDiff, extractUnifiedDiffs, parseUnifiedDiff, patchTargetPath, resolvePatchTargetPath } from './unified-diff.js';

const CALC = 'import os\n\ndef add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n';

describe('parseUnifiedDiff', () => {
  it('reads a multi-file git diff: names without a/ b/, new and deleted files, extended headers skipped', () => {
    const diff = [
      'diff --git a/src/app.ts b/src/app.ts',
      'index 83db48f..bf269f4 100644',
      '--- a/src/app.ts',
      '+++ b/src/app.ts',
      '@@ -1,2 +1,2 @@',
      ' const a = 1;',
      '-const b = 2;',
      '+const b = 3;',
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/new.txt',
      '@@ -0,0 +1 @@',
      '+hello',
      'diff --git a/old.txt b/old.txt',
      'deleted file mode 100644',
      '--- a/old.txt',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      '',
    ].join('\n');
    const parsed = parseUnifiedDiff(diff, { strict: true });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.map(patchTargetPath)).toEqual(['src/app.ts', 'new.txt', 'old.txt']);
    expect(parsed.value.map((file) => [file.oldPath, file.newPath])).toEqual([
      ['a/src/app.ts', 'b/src/app.ts'],
      [undefined, 'b/new.txt'],
      ['a/old.txt', undefined],
    ]);
    expect(parsed.value[0]?.hunks[0]).toEqual({ oldStart: 1, oldLines: 2, newStart: 1, newLines: 2, lines: [' const a = 1;', '-const b = 2;', '+const b = 3;'], line: 5 });
  });

  it('drops a/ and b/ from headers without diff --git (one side /dev/null), unless the workspace has that directory', () => {
    const parsed = parseUnifiedDiff('--- /dev/null\n+++ b/src/new.js\n@@ -0,0 +1 @@\n+x\n--- a/src/a.js\n+++ /dev/null\n@@ -1 +0,0 @@\n-y\n--- a/lib/c.js\n+++ b/lib/c.js\n@@ -1 +1 @@\n-z\n+Z\n');
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.map(patchTargetPath)).toEqual(['src/new.js', 'src/a.js', 'lib/c.js']);
    // A workspace with real a/ and b/ directories keeps the names as written, except in git's both-prefixed form.
    const real = { exists: (path: string) => path === 'a' || path === 'b' };
    expect(parsed.value.map((file) => resolvePatchTargetPath(file, real))).toEqual(['b/src/new.js', 'a/src/a.js', 'lib/c.js']);
    // After diff --git the prefixes are git's, whatever the workspace holds.
    const git = parseUnifiedDiff('diff --git a/b/x.js b/b/x.js\nnew file mode 100644\n--- /dev/null\n+++ b/b/x.js\n@@ -0,0 +1 @@\n+x\n');
    if (!git.ok) throw new Error(git.error.message);
    expect(resolvePatchTargetPath(git.value[0]!, real)).toBe('b/x.js');
  });

  it('in strict mode names the line of a hunk whose counts do not match, and of stray text', () => {
    const short = parseUnifiedDiff('--- a.txt\n+++ a.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n', { strict: true });
    expect(short).toEqual({ ok: false, error: expect.objectContaining({ code: 'malformed-diff', line: 3 }) });
    if (!short.ok) expect(short.error.message).toBe('diff line 3: hunk "@@ -1,3 +1,3 @@" announces 3 old and 3 new lines but has 2 and 2');
    const stray = parseUnifiedDiff('--- a.txt\n+++ a.txt\n@@ -1 +1 @@\n-a\n+b\nThanks!\n', { strict: true });
    if (stray.ok) throw new Error('expected an error');
    expect(stray.error.message).toBe('diff line 6: unexpected text "Thanks!" outside a hunk');
  });

  it('takes diffs as models write them: miscounted hunks recounted, @@ ... @@ hunks, prose skipped', () => {
    const parsed = parseUnifiedDiff('Here is the fix:\n--- calc.py\n+++ calc.py\n@@ -7,1 +7,1 @@\n def sub(a, b):\n-    return a - b\n+    return b - a\n\nHope it helps.\n');
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value[0]?.hunks[0]).toMatchObject({ oldLines: 2, newLines: 2, lines: [' def sub(a, b):', '-    return a - b', '+    return b - a'] });
    const loose = parseUnifiedDiff('--- calc.py\n+++ calc.py\n@@ ... @@\n def sub(a, b):\n-    return a - b\n+    return b - a\n');
    if (!loose.ok) throw new Error(loose.error.message);
    expect(loose.value[0]?.hunks[0]).toMatchObject({ loose: true, oldLines: 2, newLines: 2 });
    expect(applyFilePatch(CALC, loose.value[0]!)).toEqual({ ok: true, value: { text: CALC.replace('a - b', 'b - a'), placements: [{ line: 7, offset: 0, fuzz: 0 }] } });
  });
});

describe('extractUnifiedDiffs', () => {
  it('reads every ```diff fence of a reply, or a bare diff', () => {
    const reply = 'First:\n```diff\n--- a.txt\n+++ a.txt\n@@ -1 +1 @@\n-a\n+b\n```\nThen:\n```diff\n--- b.txt\n+++ b.txt\n@@ -1 +1 @@\n-c\n+d\n```\n';
    const found = extractUnifiedDiffs(reply);
    expect(found.ok && found.value.map(patchTargetPath)).toEqual(['a.txt', 'b.txt']);
    const bare = extractUnifiedDiffs('--- a.txt\n+++ a.txt\n@@ -1 +1 @@\n-a\n+b\n');
    expect(bare.ok && bare.value.length).toBe(1);
    expect(extractUnifiedDiffs('No diff here.\n```python\nprint(1)\n```\n')).toEqual({ ok: true, value: [] });
  });
});

describe('applyFilePatch', () => {
  it('applies a hunk whose line numbers are stale, and reports how far it moved', () => {
    const applied = applyFilePatch(CALC, {
      hunks: [{ oldStart: 2, oldLines: 2, newStart: 2, newLines: 2, lines: [' def sub(a, b):', '-    return a - b', '+    return b - a'] }],
    });
    expect(applied).toEqual({ ok: true, value: { text: CALC.replace('a - b', 'b - a'), placements: [{ line: 7, offset: 5, fuzz: 0 }] } });
  });

  it('names the failing hunk, the file and the closest lines when a hunk does not apply', () => {
    const parsed = parseUnifiedDiff('--- a/calc.py\n+++ b/calc.py\n@@ -3,2 +3,2 @@\n def add(a, b):\n-    return a + b\n+    return a + b + 0\n@@ -7,2 +7,2 @@\n def sub(a, b):\n-    return a + c\n+    return b - a\n');
    if (!parsed.ok) throw new Error(parsed.error.message);
    const applied = applyFilePatch(CALC, parsed.value[0]!);
    expect(applied.ok).toBe(false);
    if (applied.ok) return;
    expect(applied.error).toMatchObject({ code: 'hunk-failed', path: 'calc.py', line: 7 });
    expect(applied.error.message).toBe(
      'hunk 2 of 2 (@@ -7,2 +7,2 @@, diff line 7) does not apply to calc.py: its context and removed lines (2) were not found at line 7 or elsewhere. ' +
        'The closest lines in the file are lines 7-8 (86% similar). Where they differ (- your hunk, + the file):\n' +
        '- hunk line 2:     return a + c\n' +
        '+ file line 8:     return a - b\n' +
        'Copy the lines exactly as they appear in the file (re-read it if unsure).',
    );
  });

  it('says why an end-of-file newline change cannot apply', () => {
    const applied = applyFilePatch('a\nb', { newPath: 'x.txt', hunks: [{ oldStart: 2, oldLines: 1, newStart: 2, newLines: 1, lines: ['-b', '+b', '\\ No newline at end of file'] }] });
    expect(applied).toEqual({ ok: false, error: { code: 'hunk-failed', path: 'x.txt', message: 'the patch removes the final newline of x.txt, but the file has none' } });
  });

  it('throws on an invalid fuzz factor (a programming error, not a model mistake)', () => {
    expect(() => applyFilePatch('a\n', { hunks: [] }, { fuzzFactor: -1 })).toThrow('fuzzFactor must be a non-negative integer');
  });
});

describe('createUnifiedDiff', () => {
  it('writes a standard diff', () => {
    expect(createUnifiedDiff('a.txt', 'a\nb\nc\n', 'a\nB\nc\n')).toBe('--- a.txt\n+++ a.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
    expect(createUnifiedDiff('a.txt', 'same\n', 'same\n')).toBe('');
    expect(createUnifiedDiff('a.txt', 'a\n', 'a')).toBe('--- a.txt\n+++ a.txt\n@@ -1,1 +1,1 @@\n-a\n+a\n\\ No newline at end of file\n');
  });

  it('round-trips through applyPatch on 500 random edits (with and without final newlines, empty files)', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const words = ['alpha', 'beta', 'gamma', '', '  indented', 'alpha', '}'];
    const text = (): string => {
      const lines = Array.from({ length: random(12) }, () => words[random(words.length)] as string);
      return lines.join('\n') + (lines.length > 0 && random(2) === 0 ? '\n' : '');
    };
    for (let i = 0; i < 500; i++) {
      const before = text();
      let after = before.split('\n');
      for (let edits = random(4); edits > 0; edits--) {
        const at = random(after.length + 1);
        if (random(2) === 0) after.splice(at, 1);
        else after.splice(at, 0, words[random(words.length)] as string);
      }
      const next = random(5) === 0 ? text() : after.join('\n');
      const diff = createUnifiedDiff('f.txt', before, next, random(4));
      expect({ before, next, result: diff === '' ? before : applyPatch(before, diff) }).toEqual({ before, next, result: next });
    }
  });
});
