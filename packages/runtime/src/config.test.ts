import { ConfigError, commonEnv, env, loadConfig } from './config.js';

const spec = {
  port: env.port('MAESTRO_TEST_PORT', { default: 8080, doc: 'a port' }),
  url: env.url('MAESTRO_TEST_URL', { protocols: ['nats:'], doc: 'a NATS URL' }),
  namespace: commonEnv.natsNamespace,
};

function problemsOf(source: Record<string, string>): string[] {
  try {
    loadConfig(spec, source);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies defaults and returns a frozen object', () => {
    const config = loadConfig(spec, { MAESTRO_TEST_URL: 'nats://127.0.0.1:4222' });
    expect(config).toEqual({ port: 8080, url: 'nats://127.0.0.1:4222', namespace: '' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every missing or invalid variable at once', () => {
    expect(problemsOf({ MAESTRO_TEST_PORT: '70000' })).toEqual(['MAESTRO_TEST_PORT', 'MAESTRO_TEST_URL']);
  });

  it('rejects a URL of the wrong protocol, saying which were expected', () => {
    expect(() => loadConfig(spec, { MAESTRO_TEST_URL: 'http://x' })).toThrow(/MAESTRO_TEST_URL: expected a nats: URL, got "http:\/\/x"/);
  });

  it('quotes a bad URL without its password', () => {
    for (const url of ['nats://user:s3cret@127.0.0.1:notaport', 'http://user:s3cret@127.0.0.1:4222']) {
      let message = '';
      try {
        loadConfig(spec, { MAESTRO_TEST_URL: url });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain('MAESTRO_TEST_URL: expected a');
      expect(message).toContain('user:***@127.0.0.1');
      expect(message).not.toContain('s3cret');
    }
  });

  it('rejects a NATS namespace that would break subjects', () => {
    expect(problemsOf({ MAESTRO_TEST_URL: 'nats://h:1', MAESTRO_NATS_NAMESPACE: 'bad.ns' })).toEqual(['MAESTRO_NATS_NAMESPACE']);
  });

  it('accepts host:port and rejects a bare host', () => {
    const hp = { addr: env.hostPort('MAESTRO_TEST_ADDR', { doc: 'address' }) };
    expect(loadConfig(hp, { MAESTRO_TEST_ADDR: '0.0.0.0:50051' }).addr).toBe('0.0.0.0:50051');
    expect(() => loadConfig(hp, { MAESTRO_TEST_ADDR: 'localhost' })).toThrow(/MAESTRO_TEST_ADDR: expected host:port/);
  });
});
