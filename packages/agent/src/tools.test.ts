import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry } from './default-tool-registry.js';
import type { ToolContext } from './tool-registry.js';

const tools = createDefaultToolRegistry();
const call = (name: string, args: unknown) => ({ id: 'c', name, argumentsJson: JSON.stringify(args) });
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** Running, as opposed to gone or a zombie waiting for a parent (PID 1 in a container may never reap it). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('default tools', () => {
  let ws: string;
  let concerns: string[];
  let context: ToolContext;
  beforeEach(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-tools-')));
    concerns = [];
    context = { workspace: ws, writeGuard: { acquire: async (c) => void concerns.push(...c) } };
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  describe('fs.write / fs.read / fs.list', () => {
    it('writes a file after taking its concern, then reads it back whole or by lines', async () => {
      const written = await tools.run(call('fs.write', { path: 'src/sum.js', content: 'a\nb\nc\nd\n' }), context);
      expect(written).toEqual({ ok: true, output: 'created src/sum.js (8 bytes)', effects: { filesChanged: ['src/sum.js'] } });
      expect(concerns).toEqual([`file:${join(ws, 'src', 'sum.js')}`]);
      expect(readFileSync(join(ws, 'src', 'sum.js'), 'utf8')).toBe('a\nb\nc\nd\n');
      expect(await tools.run(call('fs.read', { path: 'src/sum.js' }), context)).toEqual({ ok: true, output: 'a\nb\nc\nd\n' });
      expect(await tools.run(call('fs.read', { path: 'src/sum.js', startLine: 2, endLine: 3 }), context)).toEqual({ ok: true, output: 'b\nc' });
      expect((await tools.run(call('fs.read', { path: 'src/sum.js', startLine: 3, endLine: 2 }), context)).output).toBe(
        'invalid arguments for fs.read: endLine: must not be before startLine (3), got 2',
      );
      expect((await tools.run(call('fs.read', { path: 'src/missing.js' }), context)).output).toBe('src/missing.js does not exist');
      expect((await tools.run(call('fs.read', { path: 'src' }), context)).output).toContain('is not a file (it is a directory; use fs.list)');
    });

    it('does not write when the guard refuses', async () => {
      const refusing: ToolContext = { workspace: ws, writeGuard: { acquire: async () => Promise.reject(new Error('lock held by executor-2')) } };
      const result = await tools.run(call('fs.write', { path: 'x.js', content: 'x' }), refusing);
      expect(result).toEqual({ ok: false, output: 'fs.write failed: lock held by executor-2' });
      expect(existsSync(join(ws, 'x.js'))).toBe(false);
    });

    it('lists directories, skipping .git', async () => {
      mkdirSync(join(ws, '.git'));
      mkdirSync(join(ws, 'src', 'lib'), { recursive: true });
      writeFileSync(join(ws, 'README.md'), '');
      writeFileSync(join(ws, 'src', 'lib', 'a.js'), '');
      expect((await tools.run(call('fs.list', {}), context)).output).toBe('README.md\nsrc/');
      expect((await tools.run(call('fs.list', { recursive: true }), context)).output).toBe('README.md\nsrc/\nsrc/lib/\nsrc/lib/a.js');
      expect((await tools.run(call('fs.list', { path: 'src/lib' }), context)).output).toBe('src/lib/a.js');
    });
  });

  describe('exec', () => {
    it('passes argv without a shell: injection payloads arrive as plain arguments', async () => {
      // Payloads from the safety corpus, used only as argument strings handed to a program that prints its argv.
      const lines = readFileSync(join(__dirname, '../../../../shared/corpora/safety/payloads/command-execution-unix.txt'), 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      const argv = ['node', '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...lines];
      const result = await tools.run(call('exec', { argv }), context);
      expect(result.ok).toBe(true);
      expect(JSON.parse(result.output.replace(/^exit code 0\n/, ''))).toEqual(lines);
    });

    it('reports the exit code and output, and fails for non-zero exits', async () => {
      const result = await tools.run(call('exec', { argv: ['node', '-e', 'console.log("out"); console.error("err"); process.exit(3)'] }), context);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/^exit code 3\n/);
      expect(result.output).toContain('out');
      expect(result.output).toContain('err');
      // An unknown program never reaches spawn: the command policy refuses it (see tools/exec-tool.test.ts).
      expect((await tools.run(call('exec', { argv: ['definitely-not-a-program-xyz'] }), context)).output).toMatch(/^COMMAND_DENIED: .*"definitely-not-a-program-xyz"/);
    });

    it('runs in a subdirectory of the workspace', async () => {
      mkdirSync(join(ws, 'pkg'));
      const result = await tools.run(call('exec', { argv: ['pwd'], cwd: 'pkg' }), context);
      expect(result.output).toBe(`exit code 0\n${join(ws, 'pkg')}\n`);
    });

    it('gives commands an allow-listed environment: credentials under any name stay out, explicit variables go in', async () => {
      const planted = { MAESTRO_DATABASE_URL: 'postgres://u:hunter2@db/x', DEPLOY_CREDENTIALS: 'c', GIT_AUTH: 'a', GEMINI_API_KEY: 'k1' };
      Object.assign(process.env, planted);
      try {
        const result = await tools.run(call('exec', { argv: ['node', '-e', 'process.stdout.write(Object.keys(process.env).sort().join(","))'] }), { ...context, env: { KEEP_ME: 'yes' } });
        const names = result.output.replace(/^exit code 0\n/, '').split(',');
        expect(names).toContain('KEEP_ME');
        expect(names).toContain('PATH');
        for (const name of Object.keys(planted)) expect(names).not.toContain(name);
      } finally {
        for (const name of Object.keys(planted)) delete process.env[name];
      }
    });

    it('answers an argument spawn refuses (a NUL byte) with an observation', async () => {
      const result = await tools.run(call('exec', { argv: ['node', '-e', 'x\u0000y'] }), context);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/^could not start "node": .*null bytes/);
    });

    it('kills the whole process group on timeout', async () => {
      // The command starts a grandchild that would outlive it, prints the grandchild's pid, then hangs.
      const script = [
        "const { spawn } = require('node:child_process');",
        "const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
        'console.log("grandchild " + g.pid);',
        'setInterval(() => {}, 1000);',
      ].join('\n');
      const result = await tools.run(call('exec', { argv: ['node', '-e', script], timeoutMs: 1500 }), context);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/^timed out after 1500 ms; the process group was killed/);
      const pid = Number(/grandchild (\d+)/.exec(result.output)?.[1]);
      expect(pid).toBeGreaterThan(0);
      // SIGKILL is delivered synchronously to the group; give the kernel a moment to reap.
      for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(isAlive(pid)).toBe(false);
    });

    it('caps the output, keeping the start and the end', async () => {
      const result = await tools.run(call('exec', { argv: ['node', '-e', 'console.log("START"); console.log("x".repeat(100000)); console.log("END")'] }), context);
      expect(result.output.length).toBeLessThan(33_000);
      expect(result.output).toContain('START');
      expect(result.output).toContain('END');
      expect(result.output).toMatch(/\[\.\.\. \d+ characters omitted \.\.\.\]/);
    });
  });

  describe('git.commit', () => {
    beforeEach(() => {
      git(ws, 'init', '-q', '-b', 'main');
      git(ws, 'config', 'user.email', 'test@example.com');
      git(ws, 'config', 'user.name', 'Test');
      writeFileSync(join(ws, 'README.md'), 'hello\n');
      git(ws, 'add', '.');
      git(ws, 'commit', '-q', '-m', 'init');
    });

    it('commits all changes after taking the git-index concern, and returns the sha', async () => {
      writeFileSync(join(ws, 'a.js'), 'a');
      writeFileSync(join(ws, 'README.md'), 'changed\n');
      const result = await tools.run(call('git.commit', { message: 'add a' }), context);
      const head = git(ws, 'rev-parse', 'HEAD');
      expect(result).toEqual({ ok: true, output: `committed ${head}: add a (2 files: README.md, a.js)`, effects: { commitSha: head, filesChanged: ['README.md', 'a.js'] } });
      expect(concerns).toEqual([`git-index:${ws}`]);
      expect(git(ws, 'log', '-1', '--format=%s')).toBe('add a');
      expect(git(ws, 'status', '--porcelain')).toBe('');
    });

    it('commits only the given paths', async () => {
      writeFileSync(join(ws, 'a.js'), 'a');
      writeFileSync(join(ws, 'b.js'), 'b');
      const result = await tools.run(call('git.commit', { message: 'only a', paths: ['a.js'] }), context);
      expect(result.ok).toBe(true);
      expect(git(ws, 'show', '--name-only', '--format=', 'HEAD')).toBe('a.js');
      expect(git(ws, 'status', '--porcelain')).toBe('?? b.js');
    });

    it('without paths inside a loop, commits only the files this agent changed, not another agent\'s', async () => {
      writeFileSync(join(ws, 'mine.js'), 'mine');
      writeFileSync(join(ws, 'theirs.js'), 'another agent is still writing this');
      git(ws, 'rm', '-q', 'README.md');
      const result = await tools.run(call('git.commit', { message: 'mine' }), { ...context, changedFiles: ['mine.js', 'README.md'] });
      expect(result.ok).toBe(true);
      expect(git(ws, 'show', '--name-only', '--format=', 'HEAD').split('\n').sort()).toEqual(['README.md', 'mine.js']);
      expect(git(ws, 'status', '--porcelain')).toBe('?? theirs.js');
      const nothing = await tools.run(call('git.commit', { message: 'again' }), { ...context, changedFiles: [] });
      expect(nothing).toMatchObject({ ok: false, output: expect.stringMatching(/^nothing to commit: you have not changed any files/) });
    });

    it('leaves nothing staged when the commit fails (its branch locked), and refuses a NUL byte in the message', async () => {
      writeFileSync(join(ws, 'a.js'), 'a');
      writeFileSync(join(ws, 'README.md'), 'changed\n');
      git(ws, 'add', 'README.md'); // staged by the agent earlier: must stay staged
      // Staging works, the commit cannot move the branch. (A refusing pre-commit hook no longer
      // serves: our git runs no hook of the repository.)
      const branchLock = join(ws, '.git', 'refs', 'heads', `${git(ws, 'branch', '--show-current')}.lock`);
      writeFileSync(branchLock, '');
      const refused = await tools.run(call('git.commit', { message: 'add a' }), context);
      expect(refused.ok).toBe(false);
      expect(refused.output).toMatch(/^git commit failed \(exit code 128\): .*\.lock.* The index was put back as it was before; nothing was left staged\.$/s);
      expect(git(ws, 'diff', '--cached', '--name-only')).toBe('README.md');
      expect(git(ws, 'status', '--porcelain')).toBe('M  README.md\n?? a.js');
      expect(git(ws, 'rev-list', '--count', 'HEAD')).toBe('1');

      rmSync(branchLock);
      expect(await tools.run(call('git.commit', { message: 'bad\u0000message' }), context)).toEqual({ ok: false, output: 'invalid arguments for git.commit: message: must not contain a NUL byte' });
      expect(git(ws, 'status', '--porcelain')).toBe('M  README.md\n?? a.js');
    });

    it('says so when there is nothing to commit, and refuses paths outside or in .git', async () => {
      expect(await tools.run(call('git.commit', { message: 'nothing' }), context)).toEqual({ ok: false, output: 'nothing to commit: no changes since the last commit' });
      expect((await tools.run(call('git.commit', { message: 'x', paths: ['../elsewhere'] }), context)).output).toContain('leads outside the workspace');
      expect((await tools.run(call('git.commit', { message: 'x', paths: ['.git/config'] }), context)).output).toContain('inside .git/');
    });
  });
});
