import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MemoryScopeLimits } from '@maestro/contracts';
import { parseCommandArgs } from '../args.js';
import { readCliEnv } from '../cli-env.js';
import type { CommandContext } from './context.js';
import { describeChanges, readDefinitionFile, runDefs } from './defs.js';
import { ClusterCommands } from './index.js';
import { toListQuery } from './ls.js';
import { runSpec, toSubmitRequest } from './run.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function context(dir: string): { ctx: CommandContext; out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  // No gateway listens on port 9 (discard): a command that got past its arguments fails with exit 1, not 2.
  const env = readCliEnv({ MAESTRO_GATEWAY_URL: 'http://127.0.0.1:9', MAESTRO_STATE_DIR: join(dir, 'state') });
  return { ctx: { root: dir, env, stdout: out, stderr: err, cwd: dir, interrupt: new AbortController().signal }, out, err };
}

describe('maestro run arguments', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'maestro-cli-args-'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: join(dir, 'repo') });
    mkdirSync(join(dir, 'repo', 'sub'), { recursive: true });
    mkdirSync(join(dir, 'empty-repo'));
    mkdirSync(join(dir, 'plain'));
    writeFileSync(join(dir, 'repo', 'a.txt'), 'a');
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@t.invalid', 'add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t.invalid', 'commit', '-q', '-m', 'init');
    execFileSync('git', ['init', '-q'], { cwd: join(dir, 'empty-repo') });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const submit = (argv: string[]) => toSubmitRequest(parseCommandArgs(runSpec, argv)!, dir);

  it('builds the request: the goal trimmed, the repository top level, budget and workflow', () => {
    expect(submit(['  Add it  ', '--repo', 'repo/sub', '--budget-usd', '0.5', '--workflow', 'coding'])).toEqual({
      goal: 'Add it',
      repoPath: join(dir, 'repo'),
      budget: { usd: 0.5 },
      workflow: 'coding',
    });
    expect(submit(['Add it', '--repo', 'repo'])).toEqual({ goal: 'Add it', repoPath: join(dir, 'repo') });
  });

  it('sends each --memory-scope, in order, as memoryScopes (and none when not given)', () => {
    expect(submit(['Add it', '--repo', 'repo', '--memory-scope', 'user:alice', '--memory-scope=team:core'])).toEqual({
      goal: 'Add it',
      repoPath: join(dir, 'repo'),
      memoryScopes: ['user:alice', 'team:core'],
    });
    expect(submit(['Add it', '--repo', 'repo', '--memory-scope', ' user:alice '])).toMatchObject({ memoryScopes: ['user:alice'] });
    // Given twice, kept once (the orchestrator would drop it too), and not counted twice.
    const most = Array.from({ length: MemoryScopeLimits.maxTaskScopes }, (_, i) => `team:t${i}`);
    expect(submit(['Add it', '--repo', 'repo', ...[...most, 'team:t0'].flatMap((scope) => ['--memory-scope', scope])]).memoryScopes).toEqual(most);
    expect(submit(['Add it', '--repo', 'repo'])).not.toHaveProperty('memoryScopes');
  });

  it('names --memory-scope for a scope the shared rule refuses', () => {
    const withScopes = (...scopes: string[]) => () => submit(['x', '--repo', 'repo', ...scopes.flatMap((scope) => ['--memory-scope', scope])]);
    expect(withScopes('alice')).toThrow('--memory-scope: expected user:<id> or team:<id> (an id of 1..128 characters without spaces, commas or colons), got "alice"');
    expect(withScopes('user:')).toThrow('got "user:"');
    expect(withScopes('team:a b')).toThrow('got "team:a b"');
    expect(withScopes('org:acme')).toThrow('--memory-scope: expected user:<id> or team:<id>');
    expect(withScopes(`user:${'a'.repeat(MemoryScopeLimits.maxIdLength + 1)}`)).toThrow('--memory-scope: expected');
    expect(withScopes('project')).toThrow('--memory-scope: "project" always applies; name only user:<id> or team:<id> scopes');
    const tooMany = Array.from({ length: MemoryScopeLimits.maxTaskScopes + 1 }, (_, i) => `user:u${i}`);
    expect(withScopes(...tooMany)).toThrow(`--memory-scope: at most ${MemoryScopeLimits.maxTaskScopes} scopes, got ${MemoryScopeLimits.maxTaskScopes + 1}`);
    expect(() => parseCommandArgs(runSpec, ['x', '--memory-scope'])).toThrow('option --memory-scope needs a value');
  });

  it('names the argument at fault', () => {
    expect(() => submit([' ', '--repo', 'repo'])).toThrow('<goal>: must not be empty');
    expect(() => submit(['x'])).toThrow('--repo: required');
    expect(() => submit(['x', '--repo', 'nowhere'])).toThrow(`--repo: ${join(dir, 'nowhere')} does not exist`);
    expect(() => submit(['x', '--repo', 'plain'])).toThrow('is not a git repository');
    expect(() => submit(['x', '--repo', 'empty-repo'])).toThrow('has no commit yet');
    expect(() => submit(['x', '--repo', 'repo', '--budget-usd', '0'])).toThrow('--budget-usd: expected a positive number, got "0"');
    expect(() => submit(['x', '--repo', 'repo', '--workflow', 'no spaces'])).toThrow('--workflow: "no spaces" is not a workflow name');
  });

  it('exits 2 with the usage for a bad argument, before any request', async () => {
    const { ctx, err } = context(dir);
    expect(await ClusterCommands['run']!(['x', '--repo', 'nowhere'], ctx)).toBe(2);
    expect(err.text).toContain('maestro run: --repo: ');
    expect(err.text).toContain('usage: maestro run');
  });

  it('exits 2 for a bad --memory-scope before the repository is looked at or anything is sent', async () => {
    const { ctx, err } = context(dir);
    // --repo names no repository: the scope is reported first, and no gateway (port 9) is asked.
    expect(await ClusterCommands['run']!(['x', '--repo', 'nowhere', '--memory-scope', 'everyone'], ctx)).toBe(2);
    expect(err.text).toContain('maestro run: --memory-scope: expected user:<id> or team:<id>');
    expect(err.text).toContain('--memory-scope SCOPE');
  });

  it('explains --memory-scope in --help', async () => {
    const { ctx, out } = context(dir);
    expect(await ClusterCommands['run']!(['--help'], ctx)).toBe(0);
    expect(out.text).toContain('[--memory-scope SCOPE]...');
    expect(out.text).toContain('user:<id> or team:<id>');
  });

  it('prints --help on stdout and exits 0 for every command', async () => {
    for (const [name, run] of Object.entries(ClusterCommands)) {
      const { ctx, out } = context(dir);
      expect(await run(['--help'], ctx)).toBe(0);
      expect(out.text).toContain(`usage: maestro ${name}`);
    }
  });

  it('exits 1 saying how to start a cluster when no gateway answers', async () => {
    const { ctx, err } = context(dir);
    expect(await ClusterCommands['ls']!([], ctx)).toBe(1);
    expect(err.text).toContain('no gateway answers at http://127.0.0.1:9');
    expect(err.text).toContain('maestro up');
  });
});

describe('maestro ls and defs', () => {
  it('sends q and status only when asked', () => {
    expect(toListQuery(undefined, undefined, 20)).toBe('limit=20');
    expect(toListQuery('failed', 'add helper', 5)).toBe('limit=5&status=failed&q=add+helper');
  });

  it('refuses an unknown status and an unknown defs subcommand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-cli-defs-'));
    try {
      const a = context(dir);
      expect(await ClusterCommands['ls']!(['--status', 'done'], a.ctx)).toBe(2);
      expect(a.err.text).toContain('--status: expected one of pending, running, succeeded, failed, cancelled, got "done"');
      const b = context(dir);
      expect(await runDefs(['remove', 'x'], b.ctx)).toBe(2);
      expect(b.err.text).toContain('unknown subcommand "remove"');
      const c = context(dir);
      expect(await runDefs(['diff', 'coding', '1', 'latest'], c.ctx)).toBe(2);
      expect(c.err.text).toContain('<to>: expected a version number');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a definition file, naming the file when it is not a JSON object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-cli-defs-'));
    try {
      writeFileSync(join(dir, 'ok.json'), '{"initial":"a"}');
      writeFileSync(join(dir, 'bad.json'), '{"initial":');
      writeFileSync(join(dir, 'list.json'), '[]');
      expect(readDefinitionFile('ok.json', dir)).toEqual({ initial: 'a' });
      expect(() => readDefinitionFile('bad.json', dir)).toThrow(`<file.json>: ${join(dir, 'bad.json')} is not a JSON object`);
      expect(() => readDefinitionFile('list.json', dir)).toThrow('expected a JSON object');
      expect(() => readDefinitionFile('missing.json', dir)).toThrow('cannot read');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a diff as one line per change', () => {
    expect(
      describeChanges([
        { path: 'states.review', op: 'added', after: { on: {} } },
        { path: 'states.old', op: 'removed', before: 1 },
        { path: 'initial', op: 'changed', before: 'a', after: 'b' },
      ]),
    ).toEqual(['+ states.review: {"on":{}}', '- states.old: 1', '~ initial: "a" → "b"']);
  });
});
