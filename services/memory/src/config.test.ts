import { ConfigError, loadConfig } from '@maestro/runtime';
import { memoryConfigSpec } from './config.js';

describe('memoryConfigSpec', () => {
  it('has working defaults for a local machine: the local embedder, exact or pgvector recall', () => {
    expect(loadConfig(memoryConfigSpec, {})).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      grpcAddr: '127.0.0.1:50055',
      embedder: { provider: 'local', spec: 'local' },
      embedTimeoutMs: 5_000,
      minSimilarity: 0.25,
      reembedIntervalMs: 30_000,
      reembedBatchSize: 32,
      reflexHalfLifeDays: 90,
      reflexTtlDays: 180,
    });
  });

  it('reads a provider embedder spec with its dimension', () => {
    expect(loadConfig(memoryConfigSpec, { MAESTRO_MEMORY_EMBEDDER: 'openai:text-embedding-3-small:512' }).embedder).toMatchObject({
      provider: 'openai',
      model: 'text-embedding-3-small',
      dimensions: 512,
    });
  });

  it.each([
    ['MAESTRO_DATABASE_URL', 'mysql://db/x'],
    ['MAESTRO_MEMORY_EMBEDDER', 'word2vec'],
    ['MAESTRO_MEMORY_EMBEDDER', 'openai'],
    ['MAESTRO_MEMORY_MIN_SIMILARITY', '1.5'],
    ['MAESTRO_MEMORY_MIN_SIMILARITY', 'high'],
    ['MAESTRO_MEMORY_REEMBED_BATCH', '0'],
    ['MAESTRO_MEMORY_REFLEX_HALF_LIFE_DAYS', '0'],
    ['OPENAI_BASE_URL', 'ftp://x'],
  ])('names %s when it is %s', (variable, value) => {
    expect(() => loadConfig(memoryConfigSpec, { [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig(memoryConfigSpec, { [variable]: value })).toThrow(new RegExp(variable));
  });
});
