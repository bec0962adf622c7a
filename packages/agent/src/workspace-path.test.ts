import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { ToolContext } from './tool-registry.js';
import { createDefaultToolRegistry } from './default-tool-registry.js';
import { resolveWorkspacePath } from './workspace-path.js';

const PAYLOADS = join(__dirname, '../../../../shared/corpora/safety/payloads');
const MARKER = 'OUTSIDE-SECRET-7f3a';

/** Payload lines read in place; they are only ever used as path strings, never executed. */
function payloads(file: string, every = 1): string[] {
  return readFileSync(join(PAYLOADS, file), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l, i) => l !== '' && i % every === 0)
    .map((l) => l.replaceAll('{FILE}', 'outside-secret.txt'));
}

function listTree(dir: string, skip: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (abs === skip) continue;
    out.push(abs);
    if (entry.isDirectory() && !entry.isSymbolicLink()) out.push(...listTree(abs, skip));
  }
  return out.sort();
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('resolveWorkspacePath', () => {
  let base: string;
  let ws: string;
  beforeEach(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-confine-')));
    ws = join(base, 'a', 'b', 'c', 'ws');
    mkdirSync(join(ws, 'src'), { recursive: true });
    writeFileSync(join(base, 'outside-secret.txt'), MARKER);
    writeFileSync(join(ws, 'src', 'ok.txt'), 'inside');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('accepts paths inside the workspace, including ones that do not exist yet', () => {
    expect(resolveWorkspacePath(ws, 'src/ok.txt')).toEqual({ absolute: join(ws, 'src', 'ok.txt'), relative: join('src', 'ok.txt'), root: ws });
    expect(resolveWorkspacePath(ws, 'src/../new/dir/file.js', { write: true }).relative).toBe(join('new', 'dir', 'file.js'));
    expect(resolveWorkspacePath(ws, '.').relative).toBe('.');
  });

  it('refuses absolute paths, escapes, NUL bytes and empty paths', () => {
    expect(() => resolveWorkspacePath(ws, '/etc/passwd')).toThrow('absolute paths are not allowed');
    expect(() => resolveWorkspacePath(ws, '../../../../outside-secret.txt')).toThrow('leads outside the workspace');
    expect(() => resolveWorkspacePath(ws, 'src/../../x')).toThrow('leads outside the workspace');
    expect(() => resolveWorkspacePath(ws, 'a\0b')).toThrow('NUL byte');
    expect(() => resolveWorkspacePath(ws, '')).toThrow('empty');
  });

  it('refuses symlinks that point outside, dangling links, and link loops', () => {
    symlinkSync(base, join(ws, 'escape-dir'));
    symlinkSync(join(base, 'outside-secret.txt'), join(ws, 'escape-file'));
    symlinkSync(join(base, 'not-there-yet.txt'), join(ws, 'dangling'));
    symlinkSync(join(ws, 'loop-b'), join(ws, 'loop-a'));
    symlinkSync(join(ws, 'loop-a'), join(ws, 'loop-b'));
    symlinkSync(join(ws, 'src'), join(ws, 'inner-link'));
    expect(() => resolveWorkspacePath(ws, 'escape-dir/outside-secret.txt')).toThrow('outside the workspace');
    expect(() => resolveWorkspacePath(ws, 'escape-dir/new-file.txt', { write: true })).toThrow('outside the workspace');
    expect(() => resolveWorkspacePath(ws, 'escape-file')).toThrow('outside the workspace');
    expect(() => resolveWorkspacePath(ws, 'dangling', { write: true })).toThrow('target does not exist');
    expect(() => resolveWorkspacePath(ws, 'loop-a/x')).toThrow('loop');
    // A link that stays inside is fine, and resolves to the real path (the form locks use).
    expect(resolveWorkspacePath(ws, 'inner-link/ok.txt').absolute).toBe(join(ws, 'src', 'ok.txt'));
  });

  it('refuses writes into .git/ (any spelling) but allows reading it', () => {
    mkdirSync(join(ws, '.git'));
    expect(() => resolveWorkspacePath(ws, '.git/config', { write: true })).toThrow('inside .git/');
    expect(() => resolveWorkspacePath(ws, 'src/../.git/hooks/pre-commit', { write: true })).toThrow('inside .git/');
    expect(() => resolveWorkspacePath(ws, '.GIT/HEAD', { write: true })).toThrow('inside .git/');
    expect(() => resolveWorkspacePath(ws, 'sub/.git/x', { write: true })).toThrow('inside .git/');
    expect(() => resolveWorkspacePath(ws, '.', { write: true })).toThrow('workspace root');
    expect(resolveWorkspacePath(ws, '.git/config').relative).toBe(join('.git', 'config'));
    expect(resolveWorkspacePath(ws, '.gitignore', { write: true }).relative).toBe('.gitignore');
  });
});

describe('tools under path traversal payloads (safety corpus)', () => {
  let base: string;
  let ws: string;
  const tools = createDefaultToolRegistry();
  const violations: string[] = [];
  let context: ToolContext;

  beforeAll(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-payloads-')));
    ws = join(base, 'a', 'b', 'c', 'ws');
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(base, 'outside-secret.txt'), MARKER);
    writeFileSync(join(ws, 'inside.txt'), 'inside');
    context = {
      workspace: ws,
      // The guard runs before every write: anything outside the workspace is recorded and stopped here.
      writeGuard: {
        acquire: async (concerns) => {
          for (const concern of concerns) {
            const path = concern.replace(/^file:/, '');
            if (path !== ws && !path.startsWith(ws + sep)) {
              violations.push(concern);
              throw new Error(`test guard: ${concern} is outside the workspace`);
            }
          }
        },
      },
    };
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const traversal = [
    ...payloads('deep_traversal.txt'),
    ...payloads('directory_traversal.txt'),
    ...payloads('traversals-8-deep-exotic-encoding.txt'),
    ...payloads('dotdotpwn.txt'),
  ];

  it('has payloads to try', () => {
    expect(traversal.length).toBeGreaterThan(20_000);
  });

  it('never reads anything outside the workspace', async () => {
    let refused = 0;
    for (const path of traversal) {
      for (const call of [
        { id: 'r', name: 'fs.read', argumentsJson: JSON.stringify({ path }) },
        { id: 'l', name: 'fs.list', argumentsJson: JSON.stringify({ path }) },
      ]) {
        const observation = await tools.run(call, context);
        expect(observation.output).not.toContain(MARKER);
        expect(observation.output).not.toMatch(/root:.*:0:0:/);
        if (observation.output.includes('is refused')) refused += 1;
      }
    }
    // The plain `../` and absolute payloads must be refused outright, not just fail to find a file.
    expect(refused).toBeGreaterThan(1_000);
  });

  it('never searches anything outside the workspace', async () => {
    // fs.search starts a worker per search, so a sample (every 20th payload) keeps this quick.
    let refused = 0;
    const sample = traversal.filter((_, i) => i % 20 === 0);
    for (const path of sample) {
      const observation = await tools.run({ id: 's', name: 'fs.search', argumentsJson: JSON.stringify({ pattern: '.', path }) }, context);
      expect(observation.output).not.toContain(MARKER);
      expect(observation.output).not.toMatch(/root:.*:0:0:/);
      if (observation.output.includes('is refused')) refused += 1;
    }
    // As for fs.read: the plain `../` and absolute payloads are refused outright.
    expect(refused).toBeGreaterThan(sample.length / 20);
  });

  it('never writes anything outside the workspace', async () => {
    const before = listTree(base, ws);
    const secretBefore = sha(join(base, 'outside-secret.txt'));
    const passwdBefore = statSync('/etc/passwd').mtimeMs;
    const writes = [
      ...payloads('deep_traversal.txt'),
      ...payloads('directory_traversal.txt'),
      ...payloads('traversals-8-deep-exotic-encoding.txt'),
      ...payloads('dotdotpwn.txt', 25),
    ];
    for (const path of writes) {
      const observation = await tools.run({ id: 'w', name: 'fs.write', argumentsJson: JSON.stringify({ path, content: 'PWNED' }) }, context);
      if (observation.ok) {
        // Whatever was accepted landed inside the workspace.
        const written = join(ws, observation.output.replace(/^(created|replaced) /, '').replace(/ \(\d+ bytes\)$/, ''));
        const rel = relative(ws, written);
        expect(rel === '..' || rel.startsWith(`..${sep}`)).toBe(false);
      }
    }
    expect(violations).toEqual([]);
    expect(listTree(base, ws)).toEqual(before);
    expect(sha(join(base, 'outside-secret.txt'))).toBe(secretBefore);
    expect(statSync('/etc/passwd').mtimeMs).toBe(passwdBefore);
  });

  it('refuses commands whose cwd escapes the workspace', async () => {
    for (const cwd of payloads('deep_traversal.txt', 50)) {
      const observation = await tools.run({ id: 'x', name: 'exec', argumentsJson: JSON.stringify({ argv: ['pwd'], cwd }) }, context);
      expect(observation.ok).toBe(false);
    }
  });
});
