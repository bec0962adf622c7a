import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseCommandArgs } from '../args.js';
import { readCliEnv } from '../cli-env.js';
import { writeApiKeyFile, writeClusterState, type ClusterState } from '../cluster-state.js';
import { apiKeyFor, gatewayOption, type CommandContext } from './context.js';
import { parseScopes, runKeys } from './keys.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const spec = { name: 'x', usage: 'usage: x', options: { ...gatewayOption }, positionals: [] };

function context(dir: string, env: Record<string, string>): { ctx: CommandContext; out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  const cliEnv = readCliEnv({ MAESTRO_STATE_DIR: join(dir, 'state'), ...env });
  return { ctx: { root: dir, env: cliEnv, stdout: out, stderr: err, cwd: dir, interrupt: new AbortController().signal }, out, err };
}

function stateFor(gatewayUrl: string): ClusterState {
  return { version: 1, mode: 'detached', startedAt: '', gatewayUrl, viewerUrl: `${gatewayUrl}/`, models: '', database: '', logDir: '', processes: [] };
}

describe('the key the CLI sends', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'maestro-cli-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is --api-key, else MAESTRO_API_KEY, else the key `maestro up` stored for that same gateway', () => {
    writeClusterState(join(dir, 'state'), stateFor('http://127.0.0.1:8123'));
    writeApiKeyFile(join(dir, 'state'), 'stored-key');
    expect(statSync(join(dir, 'state', 'api-key')).mode & 0o777).toBe(0o600);
    const args = (argv: string[]) => parseCommandArgs(spec, argv)!;

    expect(apiKeyFor(args(['--api-key', 'flag-key']), context(dir, { MAESTRO_API_KEY: 'env-key' }).ctx, 'http://127.0.0.1:8123')).toBe('flag-key');
    expect(apiKeyFor(args([]), context(dir, { MAESTRO_API_KEY: 'env-key' }).ctx, 'http://127.0.0.1:8123')).toBe('env-key');
    expect(apiKeyFor(args([]), context(dir, {}).ctx, 'http://127.0.0.1:8123')).toBe('stored-key');
    // Another gateway never gets the local cluster's key.
    expect(apiKeyFor(args([]), context(dir, {}).ctx, 'http://other.example:8080')).toBeUndefined();
    expect(() => apiKeyFor(args(['--api-key', ' ']), context(dir, {}).ctx, 'http://127.0.0.1:8123')).toThrow('--api-key: must not be empty');
  });
});

describe('maestro keys arguments', () => {
  it('parses scopes and names the fault', () => {
    expect(parseScopes('read,submit')).toEqual(['read', 'submit']);
    expect(() => parseScopes(undefined)).toThrow('--scopes: required');
    expect(() => parseScopes('read,write')).toThrow('unknown scope "write"');
    expect(() => parseScopes('read,read')).toThrow('named twice');
  });

  it.each([
    [['create', '--scopes', 'read'], '--name: required'],
    [['create', '--name', 'ci'], '--scopes: required'],
    [['create', '--name', 'ci', '--scopes', 'read', '--tenant', ' '], '--tenant: must not be empty'],
    [['rotate'], 'unknown subcommand "rotate"'],
    [[], 'missing subcommand'],
  ])('maestro keys %j exits 2: %s', async (argv, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-cli-keys-'));
    try {
      const { ctx, err } = context(dir, { MAESTRO_GATEWAY_URL: 'http://127.0.0.1:9' });
      expect(await runKeys(argv, ctx)).toBe(2);
      expect(err.text).toContain(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
