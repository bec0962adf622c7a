import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createSilentLogger } from '@maestro/runtime';
import { loadRouterConfig } from './config.js';
import { createModelRegistry, describeKeys } from './model-registry.js';
import { defaultRoutingPolicy } from './domain/routing-policy.js';
import { loadRouterData } from './router-data.js';

function problemsOf(fn: () => unknown): Array<{ variable: string; problem: string }> {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const registry = (env: Record<string, string>) => createModelRegistry(loadRouterConfig(env), defaultRoutingPolicy, { logger: createSilentLogger() });

describe('router configuration', () => {
  it('defaults to Gemini (strategic) and DeepSeek (tactical)', () => {
    const config = loadRouterConfig({});
    expect(config.strategicModel.spec).toBe('gemini:gemini-2.5-pro');
    expect(config.tacticalModel.spec).toBe('deepseek:deepseek-chat');
    expect(config.deepseekBaseUrl).toBe('https://api.deepseek.com');
    expect(config.grpcAddr).toBe('127.0.0.1:50053');
  });

  it('stops at start when a configured provider has no key, naming the key variable', () => {
    const problems = problemsOf(() => registry({}));
    expect(problems.map((p) => p.variable)).toEqual(['GEMINI_API_KEY', 'DEEPSEEK_API_KEY']);
    expect(problems[0]?.problem).toContain('gemini:gemini-2.5-pro');
    expect(problemsOf(() => registry({ MAESTRO_TACTICAL_FALLBACK: 'openai:gpt-4o-mini', GEMINI_API_KEY: 'g', DEEPSEEK_API_KEY: 'd' }))).toEqual([
      { variable: 'OPENAI_API_KEY', problem: expect.stringContaining('openai:gpt-4o-mini') },
    ]);
  });

  it('builds every provider when the keys are there, and never puts a key in a message', () => {
    const env = { GEMINI_API_KEY: 'secret-gemini', DEEPSEEK_API_KEY: 'secret-deepseek', MAESTRO_STRATEGIC_FALLBACK: 'deepseek:deepseek-reasoner' };
    const built = registry(env);
    expect(built.tiers.strategic.fallbacks.map((s) => s.spec)).toEqual(['deepseek:deepseek-reasoner']);
    expect(built.anyScripted).toBe(false);
    // The start line says which keys are set, never what they are.
    const keys = describeKeys(loadRouterConfig(env));
    expect(keys).toEqual({ GEMINI_API_KEY: true, DEEPSEEK_API_KEY: true, OPENAI_API_KEY: false });
    expect(JSON.stringify(keys)).not.toContain('secret-');
    // A problem with one provider's key never quotes another's.
    const problems = problemsOf(() => registry({ ...env, MAESTRO_TACTICAL_FALLBACK: 'openai:gpt-4o-mini' }));
    expect(JSON.stringify(problems)).not.toContain('secret-');
  });

  it('rejects a malformed model spec or fallback list', () => {
    expect(problemsOf(() => loadRouterConfig({ MAESTRO_TACTICAL_MODEL: 'llama' }))).toEqual([
      { variable: 'MAESTRO_TACTICAL_MODEL', problem: expect.stringContaining('unknown provider "llama"') },
    ]);
    expect(problemsOf(() => loadRouterConfig({ MAESTRO_STRATEGIC_FALLBACK: 'gemini:gemini-2.5-flash, nope:x' }))).toEqual([
      { variable: 'MAESTRO_STRATEGIC_FALLBACK', problem: expect.stringContaining('unknown provider "nope"') },
    ]);
  });

  it('requires MAESTRO_SCRIPT_PATH when a model is scripted, and a valid script there', () => {
    expect(problemsOf(() => loadRouterConfig({ MAESTRO_TACTICAL_MODEL: 'scripted' }))).toEqual([
      { variable: 'MAESTRO_SCRIPT_PATH', problem: expect.stringContaining('is required when') },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'maestro-router-config-'));
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ rules: [{ name: 'x', turns: [] }] }));
      const env = { MAESTRO_STRATEGIC_MODEL: 'scripted', MAESTRO_TACTICAL_MODEL: 'scripted', MAESTRO_SCRIPT_PATH: bad };
      expect(problemsOf(() => registry(env))).toEqual([
        { variable: 'MAESTRO_SCRIPT_PATH', problem: expect.stringContaining('rule "x" (rules[0]), turns: a rule needs at least one turn') },
      ]);
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ rules: [{ name: 'x', turns: [{ content: 'hi' }] }] }));
      expect(registry({ ...env, MAESTRO_SCRIPT_PATH: good }).anyScripted).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at start on an invalid routing policy or price table, naming the variable and the path at fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-router-policy-'));
    try {
      const policy = join(dir, 'policy.json');
      writeFileSync(policy, JSON.stringify({ rules: [{ when: { phase: ['coding'] }, use: 'tactical' }] }));
      const prices = join(dir, 'prices.json');
      writeFileSync(prices, JSON.stringify({ 'openai:x': { inputPerMillion: 'cheap', outputPerMillion: 1 } }));
      const problems = problemsOf(() => loadRouterData({ routingPolicyPath: policy, priceTablePath: prices }));
      expect(problems.map((p) => p.variable)).toEqual(['MAESTRO_ROUTING_POLICY_PATH', 'MAESTRO_PRICE_TABLE_PATH']);
      expect(problems[0]?.problem).toContain('rules[0].when.phase[0]');
      expect(problems[1]?.problem).toContain('openai:x.inputPerMillion');
      expect(problemsOf(() => loadRouterData({ routingPolicyPath: join(dir, 'missing.json'), priceTablePath: '' }))[0]?.problem).toContain('cannot be read');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
