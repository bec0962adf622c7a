import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider } from './create-provider.js';
import { parseModelSpec } from './model-spec.js';
import { costOf, parsePriceTable, priceOf, priceUsage } from './prices.js';

describe('createProvider', () => {
  it.each([
    ['gemini:gemini-2.5-pro', 'GEMINI_API_KEY'],
    ['openai:gpt-4o', 'OPENAI_API_KEY'],
    ['deepseek:deepseek-chat', 'DEEPSEEK_API_KEY'],
  ])('refuses %s without its key, naming %s', (spec, variable) => {
    expect(() => createProvider(spec)).toThrow(expect.objectContaining({ code: 'PROVIDER_KEY_MISSING', details: expect.objectContaining({ keyVariable: variable }) }));
    expect(() => createProvider(spec, { credentials: { gemini: { apiKey: '' } } })).toThrow(new RegExp(`needs an API key in ${variable}`));
  });

  it.each([
    ['gemini:gemini-2.5-pro', 'gemini'],
    ['openai:gpt-4o', 'openai'],
    ['deepseek:deepseek-chat', 'deepseek'],
  ])('builds %s through its official SDK when the key is there', (spec, name) => {
    const credentials = { gemini: { apiKey: 'k' }, openai: { apiKey: 'k' }, deepseek: { apiKey: 'k' } };
    expect(createProvider(spec, { credentials }).name).toBe(name);
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

describe('priceUsage', () => {
  it('prices cached input and reasoning apart, and says when a model is unpriced', () => {
    const usage = { inputTokens: 1_000_000, cachedInputTokens: 400_000, outputTokens: 200_000, reasoningTokens: 100_000 };
    // deepseek-chat: 600k miss × 0.28 + 400k hit × 0.028 + 200k out × 0.42
    expect(priceUsage('deepseek:deepseek-chat', usage).costUsd).toBeCloseTo(0.168 + 0.0112 + 0.084, 6);
    expect(priceUsage('openai:some-future-model', usage)).toEqual({ costUsd: 0, priced: false });
    expect(priceUsage('scripted', usage)).toEqual({ costUsd: 0, priced: true });
  });

  it('refuses a price table with a bad entry, naming the model', () => {
    expect(() => parsePriceTable({ 'openai:x': { inputPerMillion: -1, outputPerMillion: 1 } })).toThrow(/openai:x\.inputPerMillion/);
  });
});
