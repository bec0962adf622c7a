/**
 * Embedder specs and the factory: what each spec builds, that a missing key names its variable
 * (and no key is ever printed), and that bad specs are INVALID_ARGUMENT naming the variable.
 */
import { UserError } from '@maestro/runtime';
import {
  GeminiEmbedder,
  LocalHashEmbedder,
  OpenAIEmbedder,
  ProviderErrorCodes,
  createEmbedder,
  parseEmbedderSpec,
} from '../src/index.js';

describe('parseEmbedderSpec', () => {
  it.each([
    ['local', { provider: 'local', spec: 'local' }],
    [' local:256 ', { provider: 'local', dimensions: 256, spec: 'local:256' }],
    ['openai:text-embedding-3-small', { provider: 'openai', model: 'text-embedding-3-small', spec: 'openai:text-embedding-3-small' }],
    ['openai:text-embedding-3-large:1024', { provider: 'openai', model: 'text-embedding-3-large', dimensions: 1024, spec: 'openai:text-embedding-3-large:1024' }],
    ['openai:nomic-embed-text:latest', { provider: 'openai', model: 'nomic-embed-text:latest', spec: 'openai:nomic-embed-text:latest' }],
    ['openai:nomic-embed-text:latest:768', { provider: 'openai', model: 'nomic-embed-text:latest', dimensions: 768, spec: 'openai:nomic-embed-text:latest:768' }],
    ['gemini:gemini-embedding-001:768', { provider: 'gemini', model: 'gemini-embedding-001', dimensions: 768, spec: 'gemini:gemini-embedding-001:768' }],
  ])('%s', (spec, expected) => {
    expect(parseEmbedderSpec(spec)).toEqual(expected);
  });

  it.each(['', '   ', 'hash', 'local:abc', 'local:0', 'openai', 'openai:', 'gemini::768', 'cohere:embed-v3'])(
    'rejects %j naming the variable',
    (spec) => {
      const attempt = () => parseEmbedderSpec(spec);
      expect(attempt).toThrow(UserError);
      expect(attempt).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'MAESTRO_MEMORY_EMBEDDER' }));
      expect(attempt).toThrow(/local\[:<dimensions>\], openai:<model>\[:<dimensions>\] or gemini:<model>\[:<dimensions>\]/);
    },
  );

  it('names another field when told', () => {
    expect(() => parseEmbedderSpec('nope', 'embedder')).toThrow(expect.objectContaining({ field: 'embedder' }));
  });
});

describe('createEmbedder', () => {
  const KEY = 'sk-create-SECRET-0123456789';

  it('builds the local embedder by default size or the asked one', () => {
    const local = createEmbedder('local', {});
    expect(local).toBeInstanceOf(LocalHashEmbedder);
    expect(local.id).toBe('local:hash-v1:384');
    expect(local.local).toBe(true);
    expect(createEmbedder('local:128', {}).dimensions).toBe(128);
  });

  it('builds provider embedders from the keys and base URLs of the environment', () => {
    const openai = createEmbedder('openai:text-embedding-3-small:512', { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect(openai).toBeInstanceOf(OpenAIEmbedder);
    expect(openai).toMatchObject({ id: 'openai:text-embedding-3-small:512', dimensions: 512, local: false });
    const gemini = createEmbedder('gemini:gemini-embedding-001', { GEMINI_API_KEY: KEY, MAESTRO_GEMINI_BASE_URL: 'http://127.0.0.1:9' });
    expect(gemini).toBeInstanceOf(GeminiEmbedder);
    expect(gemini).toMatchObject({ id: 'gemini:gemini-embedding-001:3072', dimensions: 3072, local: false });
  });

  it('names the missing key variable, never a key', () => {
    for (const [spec, variable, env] of [
      ['openai:text-embedding-3-small', 'OPENAI_API_KEY', { GEMINI_API_KEY: KEY }],
      ['gemini:gemini-embedding-001', 'GEMINI_API_KEY', { OPENAI_API_KEY: KEY, GEMINI_API_KEY: '  ' }],
    ] as const) {
      let error: unknown;
      try {
        createEmbedder(spec, env);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UserError);
      expect(error).toMatchObject({ code: ProviderErrorCodes.keyMissing, details: { keyVariable: variable } });
      expect((error as Error).message).toContain(variable);
      expect((error as Error).message).not.toContain(KEY);
    }
  });

  it('turns a dimension the model cannot give into INVALID_ARGUMENT naming the variable', () => {
    const attempt = () => createEmbedder('openai:text-embedding-ada-002:256', { OPENAI_API_KEY: KEY });
    expect(attempt).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'MAESTRO_MEMORY_EMBEDDER' }));
    expect(attempt).toThrow(/text-embedding-ada-002.*1536/);
    expect(() => createEmbedder('openai:my-local-model', { OPENAI_API_KEY: KEY })).toThrow(/openai:my-local-model:<dimensions>/);
    expect(() => createEmbedder('local:4', {})).toThrow(expect.objectContaining({ field: 'MAESTRO_MEMORY_EMBEDDER' }));
  });
});
