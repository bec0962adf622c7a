import { ConfigError, loadConfig } from '@maestro/runtime';
import { lockManagerConfigSpec } from './config.js';

describe('lockManagerConfigSpec', () => {
  it('has working defaults for a local machine', () => {
    const config = loadConfig(lockManagerConfigSpec, {});
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      grpcAddr: '127.0.0.1:50054',
      keyPrefix: 'maestro:lock:',
    });
  });

  it('reads the key prefix and names every bad variable', () => {
    expect(loadConfig(lockManagerConfigSpec, { MAESTRO_LOCK_KEY_PREFIX: 'ci:locks:' }).keyPrefix).toBe('ci:locks:');
    let thrown: unknown;
    try {
      loadConfig(lockManagerConfigSpec, { MAESTRO_REDIS_URL: 'http://x', MAESTRO_LOCK_MANAGER_GRPC_ADDR: 'nowhere' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain('MAESTRO_REDIS_URL');
    expect((thrown as ConfigError).message).toContain('MAESTRO_LOCK_MANAGER_GRPC_ADDR');
  });
});
