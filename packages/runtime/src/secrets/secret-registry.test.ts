import { createSecretRegistry, redactDeep, SecretRegistry } from './secret-registry.js';
import { isSecretName } from './secret-names.js';
import { urlCredentials } from './url-credentials.js';

describe('isSecretName', () => {
  it.each(['OPENAI_API_KEY', 'GEMINI_API_KEY', 'GITHUB_TOKEN', 'CLIENT_SECRET', 'PGPASSWORD', 'REDIS_PASSWORD_FILE_CONTENT', 'SIGNING_KEY', 'GCP_CREDS'])('%s is a credential', (name) => {
    expect(isSecretName(name)).toBe(true);
  });
  it.each(['MAESTRO_TASK_BUDGET_TOKENS', 'MAESTRO_LOCK_KEY_PREFIX', 'SSH_PUBLIC_KEY', 'GPG_KEY', 'AWS_ACCESS_KEY_ID', 'MAESTRO_DATABASE_URL', 'HOME', 'MAESTRO_GRPC_TLS_KEY'])('%s is not', (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe('urlCredentials', () => {
  it.each([
    ['postgres://postgres:canarypw123@127.0.0.1:5432/db', ['canarypw123']],
    ['redis://:r3dis-secret@redis:6379/0', ['r3dis-secret']],
    ['nats://natstoken123@nats:4222', ['natstoken123']],
    ['postgres://db/app?sslmode=require&password=querypass1', ['querypass1']],
    ['nats://a:first-pass@n1:4222,nats://b:second-pass@n2:4222', ['first-pass', 'second-pass']],
    ['postgres://u:p%40ss-word@db/app', ['p%40ss-word', 'p@ss-word']],
    ['nats://user:s3/cr@t#x@127.0.0.1:4222', ['s3/cr@t#x']],
  ])('finds the credentials of %s', (url, expected) => {
    expect(urlCredentials(url)).toEqual(expected);
  });

  it.each(['postgres://postgres@127.0.0.1:5432/maestro', 'http://127.0.0.1:8080/v1', 'not a url', ''])('finds none in %s (a user name is not a secret)', (url) => {
    expect(urlCredentials(url)).toEqual([]);
  });
});

describe('SecretRegistry', () => {
  const env = {
    OPENAI_API_KEY: 'sk-canary-0123456789',
    MAESTRO_DATABASE_URL: 'postgres://postgres:canarypw-42@127.0.0.1:5432/maestro',
    SHORT_TOKEN: 'abc',
    MAESTRO_TASK_BUDGET_TOKENS: '200000000',
    HOME: '/home/maestro',
  };

  it('replaces each secret by a marker naming the variable it came from', () => {
    const secrets = createSecretRegistry({ env });
    expect(secrets.redact('key sk-canary-0123456789 and db canarypw-42, home /home/maestro')).toBe(
      'key [REDACTED:OPENAI_API_KEY] and db [REDACTED:MAESTRO_DATABASE_URL], home /home/maestro',
    );
  });

  it('ignores values shorter than the minimum length and variables not named like credentials', () => {
    const secrets = createSecretRegistry({ env });
    expect(secrets.redact('abc 200000000 postgres')).toBe('abc 200000000 postgres');
  });

  it('redacts every occurrence, longest secret first', () => {
    const secrets = createSecretRegistry({ env: { SHORT_SECRET: 'abcdefgh', LONG_SECRET: 'abcdefgh-ijklmnop' } });
    expect(secrets.redact('abcdefgh-ijklmnop abcdefgh abcdefgh-ijklmnop')).toBe('[REDACTED:LONG_SECRET] [REDACTED:SHORT_SECRET] [REDACTED:LONG_SECRET]');
  });

  it('redacts the JSON-escaped, URL-encoded and base64 forms', () => {
    const secret = 'pa"ss/wo+rd\\1';
    const secrets = createSecretRegistry({ env: { DB_PASSWORD: secret } });
    const json = JSON.stringify({ out: `x ${secret} y` });
    expect(secrets.redact(json)).toBe('{"out":"x [REDACTED:DB_PASSWORD] y"}');
    expect(JSON.parse(secrets.redact(json))).toEqual({ out: 'x [REDACTED:DB_PASSWORD] y' });
    expect(secrets.redact(`?p=${encodeURIComponent(secret)}`)).toBe('?p=[REDACTED:DB_PASSWORD]');
    expect(secrets.redact(`echo ${Buffer.from(secret).toString('base64')}`)).toBe('echo [REDACTED:DB_PASSWORD]');
  });

  it('takes the credentials and credential-named fields of a loaded config', () => {
    const secrets = createSecretRegistry({ config: { redisUrl: 'redis://:redis-pass-1@redis:6379', gatewayApiKey: 'gw-key-123456', port: 8080 } });
    expect(secrets.redact('redis-pass-1 gw-key-123456')).toBe('[REDACTED:redisUrl] [REDACTED:gatewayApiKey]');
  });

  it('redacts a secret registered at run time from then on', () => {
    const secrets = new SecretRegistry();
    expect(secrets.redact('token mgw_live_abcdef')).toBe('token mgw_live_abcdef');
    expect(secrets.register('mgw_live_abcdef', 'GATEWAY_API_KEY')).toBe(true);
    expect(secrets.register('short', 'X')).toBe(false);
    expect(secrets.redact('token mgw_live_abcdef')).toBe('token [REDACTED:GATEWAY_API_KEY]');
  });

  it('keeps the first name a value was registered under', () => {
    const secrets = createSecretRegistry({ env: { A_TOKEN: 'same-value-1', B_TOKEN: 'same-value-1' } });
    expect(secrets.redact('same-value-1')).toBe('[REDACTED:A_TOKEN]');
  });

  it('returns text unchanged when it knows no secret, and treats regular-expression characters literally', () => {
    expect(new SecretRegistry().redact('a.b*c')).toBe('a.b*c');
    const secrets = createSecretRegistry({ env: { X_SECRET: 'a.b*c(d)+e' } });
    expect(secrets.redact('a.b*c(d)+e aXbbc(d)+e')).toBe('[REDACTED:X_SECRET] aXbbc(d)+e');
  });

  it('redactDeep redacts the strings of plain objects and arrays and leaves the rest', () => {
    const secrets = createSecretRegistry({ env: { OPENAI_API_KEY: 'sk-canary-0123456789' } });
    const when = new Date(0);
    const message = { role: 'tool', content: 'OPENAI_API_KEY=sk-canary-0123456789', toolCalls: [{ arguments: { cmd: 'sk-canary-0123456789' } }], n: 3, when };
    expect(redactDeep(secrets, message)).toEqual({
      role: 'tool',
      content: 'OPENAI_API_KEY=[REDACTED:OPENAI_API_KEY]',
      toolCalls: [{ arguments: { cmd: '[REDACTED:OPENAI_API_KEY]' } }],
      n: 3,
      when,
    });
    expect(message.content).toBe('OPENAI_API_KEY=sk-canary-0123456789');
  });
});
