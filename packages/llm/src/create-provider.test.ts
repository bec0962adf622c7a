import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider } from './create-provider.js';
import { parseModelSpec } from './model-spec.js';
import { costOf, priceOf } from './prices.js';

describe('createProvider', () => {
  it.each(['gemini:gemini-2.5-pro', 'openai:gpt-4o', 'deepseek:deepseek-chat'])('refuses %s: the adapter is not built', (spec) => {
    expect(() => createProvider(spec)).toThrow(expect.objectContaining({ code: 'PROVIDER_NOT_BUILT' }));
    expect(() => createProvider(spec)).toThrow(/adapter is not built yet.*use "scripted"/);
  });

  it('needs a script file for scripted', () => {
    expect(() => createProvider('scripted')).toThrow(expect.objectContaining({ code: 'SCRIPT_PATH_REQUIRED' }));
  });

  it('builds the scripted provider from a script file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-llm-'));
    try {
      const path = join(dir, 's.json');
      writeFileSync(path, JSON.stringify({ rules: [{ name: 'any', turns: [{ content: 'hi' }] }] }));
      expect(createProvider('scripted', { scriptPath: path }).name).toBe('scripted');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseModelSpec', () => {
  it('splits provider and model', () => {
    expect(parseModelSpec('gemini:gemini-2.5-pro')).toEqual({ provider: 'gemini', model: 'gemini-2.5-pro', spec: 'gemini:gemini-2.5-pro' });
    expect(parseModelSpec('scripted')).toEqual({ provider: 'scripted', model: 'scripted', spec: 'scripted' });
  });

  it('rejects unknown providers and missing models', () => {
    expect(() => parseModelSpec('claude:opus')).toThrow('unknown provider "claude"');
    expect(() => parseModelSpec('gemini')).toThrow('has no model; write it as gemini:<model id>');
  });
});

describe('costOf', () => {
  it('prices known models per million tokens and scripted at 0', () => {
    expect(costOf('gemini:gemini-2.5-pro', { inputTokens: 1_000_000, outputTokens: 100_000 })).toBeCloseTo(2.25);
    expect(costOf('scripted', { inputTokens: 5_000, outputTokens: 5_000 })).toBe(0);
    expect(priceOf('openai:some-future-model')).toBeUndefined();
  });
});
