import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry } from './default-tool-registry.js';
import type { ToolContext } from './tool-registry.js';

const tools = createDefaultToolRegistry();
const call = (name: string, args: unknown) => ({ id: 'c', name, argumentsJson: JSON.stringify(args) });

/**
 * Writes that wait in the write guard (for a lock, in production) must not follow a symbolic link
 * planted while they waited: the guards below plant one, as a command running meanwhile could.
 */
describe('writes after the write guard', () => {
  let ws: string;
  let outside: string;
  beforeEach(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-toctou-')));
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-outside-')));
    mkdirSync(join(ws, 'sub'));
    writeFileSync(join(ws, 'sub', 'a.txt'), 'inside\n');
    writeFileSync(join(outside, 'a.txt'), 'outside\n');
  });
  afterEach(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  /** A guard that swaps `sub/` for a link to the outside directory once the paths were checked. */
  const swapParent: ToolContext['writeGuard'] = {
    acquire: async () => {
      renameSync(join(ws, 'sub'), join(ws, 'sub-moved'));
      symlinkSync(outside, join(ws, 'sub'));
    },
  };

  it('fs.write refuses a parent directory that became a link to the outside', async () => {
    const result = await tools.run(call('fs.write', { path: 'sub/a.txt', content: 'owned\n' }), { workspace: ws, writeGuard: swapParent });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/^fs\.write failed: path "sub\/a\.txt" is refused: it changed while waiting for the write guard \(.*outside the workspace\); nothing was written$/);
    expect(readFileSync(join(outside, 'a.txt'), 'utf8')).toBe('outside\n');
  });

  it('fs.write refuses a link planted at the target itself, to the outside or to another workspace file', async () => {
    const plantOutside: ToolContext['writeGuard'] = { acquire: async () => symlinkSync(join(outside, 'new.txt'), join(ws, 'new.txt')) };
    const out = await tools.run(call('fs.write', { path: 'new.txt', content: 'owned\n' }), { workspace: ws, writeGuard: plantOutside });
    expect(out.ok).toBe(false);
    expect(out.output).toContain('it changed while waiting for the write guard');
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);

    const plantInside: ToolContext['writeGuard'] = { acquire: async () => symlinkSync(join(ws, 'sub', 'a.txt'), join(ws, 'other.txt')) };
    const redirected = await tools.run(call('fs.write', { path: 'other.txt', content: 'x\n' }), { workspace: ws, writeGuard: plantInside });
    expect(redirected.output).toBe(
      'fs.write failed: path "other.txt" is refused: it changed while waiting for the write guard: it now leads to sub/a.txt instead of other.txt (a symbolic link appeared); nothing was written',
    );
    expect(readFileSync(join(ws, 'sub', 'a.txt'), 'utf8')).toBe('inside\n');
  });

  it('fs.write refuses a directory to be created that appeared as a link', async () => {
    const plant: ToolContext['writeGuard'] = { acquire: async () => symlinkSync(outside, join(ws, 'fresh')) };
    const result = await tools.run(call('fs.write', { path: 'fresh/deep/b.txt', content: 'owned\n' }), { workspace: ws, writeGuard: plant });
    expect(result.ok).toBe(false);
    expect(readdirSync(outside)).toEqual(['a.txt']);
  });

  it('fs.edit and fs.apply_patch refuse a parent that became a link, and leave the outside file alone', async () => {
    const edited = await tools.run(call('fs.edit', { path: 'sub/a.txt', old_str: 'inside', new_str: 'owned' }), { workspace: ws, writeGuard: swapParent });
    expect(edited.ok).toBe(false);
    expect(edited.output).toContain('it changed while waiting for the write guard');
    expect(readFileSync(join(outside, 'a.txt'), 'utf8')).toBe('outside\n');

    rmSync(join(ws, 'sub'));
    renameSync(join(ws, 'sub-moved'), join(ws, 'sub'));
    const deleted = await tools.run(call('fs.apply_patch', { patch: '--- sub/a.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-inside\n' }), { workspace: ws, writeGuard: swapParent });
    expect(deleted.ok).toBe(false);
    expect(deleted.output).toContain('nothing was changed: path "sub/a.txt" is refused: it changed while waiting for the write guard');
    expect(readFileSync(join(outside, 'a.txt'), 'utf8')).toBe('outside\n');
  });

  it('replaces a file in place of a link-free path, keeping its permission bits and leaving no temporary file', async () => {
    writeFileSync(join(ws, 'run.sh'), '#!/bin/sh\necho old\n', { mode: 0o755 });
    const result = await tools.run(call('fs.write', { path: 'run.sh', content: '#!/bin/sh\necho new\n' }), { workspace: ws });
    expect(result).toEqual({ ok: true, output: 'replaced run.sh (19 bytes)', effects: { filesChanged: ['run.sh'] } });
    expect(statSync(join(ws, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(ws, 'run.sh')).isFile()).toBe(true);
    expect(readdirSync(ws).sort()).toEqual(['run.sh', 'sub']);
  });
});
