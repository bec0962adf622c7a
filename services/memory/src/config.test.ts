import { ConfigError, loadConfig } from '@maestro/runtime';
import { memoryConfigSpec } from './config.js';

describe('memoryConfigSpec', () => {
  it('has working defaults for a local machine', () => {
    expect(loadConfig(memoryConfigSpec, {})).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      grpcAddr: '127.0.0.1:50055',
    });
  });

  it('names a bad database URL', () => {
    expect(() => loadConfig(memoryConfigSpec, { MAESTRO_DATABASE_URL: 'mysql://db/x' })).toThrow(ConfigError);
    expect(() => loadConfig(memoryConfigSpec, { MAESTRO_DATABASE_URL: 'mysql://db/x' })).toThrow(/MAESTRO_DATABASE_URL/);
  });
});
