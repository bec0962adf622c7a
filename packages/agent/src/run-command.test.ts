import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, scrubEnvironment } from './run-command.js';

/** Names that carry credentials in real deployments without looking like KEY/TOKEN/SECRET/PASSWORD. */
const PLANTED = {
  MAESTRO_DATABASE_URL: 'postgres://maestro:hunter2@db.internal:5432/maestro',
  MAESTRO_NATS_URL: 'nats://agent:s3cr3t@nats.internal:4222',
  HTTPS_PROXY: 'http://proxyuser:proxypass@proxy.internal:3128',
  GOOGLE_APPLICATION_CREDENTIALS: '/var/run/secrets/gcp.json',
  REGISTRY_AUTH: 'Basic dXNlcjpwYXNz',
  PGPASS: 'hunter2',
  NATS_CREDS: '/etc/nats/agent.creds',
  SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
  GEMINI_API_KEY: 'k1',
};
const PRINT_ENV = ['node', '-e', 'process.stdout.write(JSON.stringify(process.env))'];

describe('runCommand', () => {
  let cwd: string;
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    cwd = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-run-')));
    for (const [name, value] of Object.entries(PLANTED)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterEach(() => {
    for (const name of Object.keys(PLANTED)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  it('hands a command only allow-listed variables of the executor environment, plus the explicit ones', async () => {
    const result = await runCommand(PRINT_ENV, { cwd, env: { MAESTRO_TEST_EXTRA: 'safe', NOT_SET: undefined } });
    expect(result.exitCode).toBe(0);
    const seen = JSON.parse(result.output) as Record<string, string>;
    for (const name of Object.keys(PLANTED)) expect(seen[name]).toBeUndefined();
    // Nothing the executor holds reaches the command under another name either.
    expect(result.output).not.toMatch(/hunter2|s3cr3t|proxypass|dXNlcjpwYXNz|gcp\.json|agent\.creds|ssh-agent/);
    expect(seen.PATH).toBe(process.env.PATH);
    expect(seen.MAESTRO_TEST_EXTRA).toBe('safe');
    expect('NOT_SET' in seen).toBe(false);
    const allowed = /^(PATH|HOME|LANG|LC_[A-Z_]+|TZ|TERM|TMPDIR|USER|SHELL|NODE_ENV|CI|MAESTRO_TEST_EXTRA)$/;
    // node itself may add nothing; anything else would be a leak through the allow-list.
    expect(Object.keys(seen).filter((name) => !allowed.test(name))).toEqual([]);
  });

  it('keeps only allow-listed names in scrubEnvironment', () => {
    expect(scrubEnvironment({ PATH: '/usr/bin', LC_ALL: 'C.UTF-8', TZ: 'UTC', CI: '1', ...PLANTED, AWS_PROFILE: 'prod', LOCAL_FLAG: undefined })).toEqual({
      PATH: '/usr/bin',
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
      CI: '1',
    });
  });

  it('resolves with spawnError instead of rejecting when spawn refuses the arguments', async () => {
    const result = await runCommand(['node', '-e', 'bad\0arg'], { cwd });
    expect(result).toMatchObject({ exitCode: null, timedOut: false, aborted: false, output: '' });
    expect(result.spawnError).toMatch(/null bytes|ERR_INVALID_ARG_VALUE/);
    const missingDir = await runCommand(['node', '-e', '1'], { cwd: join(cwd, 'gone') });
    expect(missingDir.spawnError).toMatch(/ENOENT/);
  });
});
