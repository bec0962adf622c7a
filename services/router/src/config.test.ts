import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@maestro/runtime';
import { loadRouterConfig } from './config.js';
import { createRoleProviders } from './providers.js';

function problemsOf(fn: () => unknown): Array<{ variable: string; problem: string }> {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('router configuration', () => {
  it('defaults to Gemini (strategic) and DeepSeek (tactical)', () => {
    const config = loadRouterConfig({});
    expect(config.strategicModel.spec).toBe('gemini:gemini-2.5-pro');
    expect(config.tacticalModel.spec).toBe('deepseek:deepseek-chat');
    expect(config.grpcAddr).toBe('127.0.0.1:50053');
  });

  it('fails fast when a configured provider is not built, naming the variables', () => {
    const problems = problemsOf(() => createRoleProviders(loadRouterConfig({})));
    expect(problems.map((p) => p.variable)).toEqual(['MAESTRO_STRATEGIC_MODEL', 'MAESTRO_TACTICAL_MODEL']);
    expect(problems[0]?.problem).toContain('the gemini provider adapter is not built yet');
    expect(problems[1]?.problem).toContain('the deepseek provider adapter is not built yet');
  });

  it('rejects a malformed model spec', () => {
    const problems = problemsOf(() => loadRouterConfig({ MAESTRO_TACTICAL_MODEL: 'llama' }));
    expect(problems).toEqual([{ variable: 'MAESTRO_TACTICAL_MODEL', problem: expect.stringContaining('unknown provider "llama"') }]);
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
      expect(problemsOf(() => createRoleProviders(loadRouterConfig(env)))).toEqual([
        { variable: 'MAESTRO_SCRIPT_PATH', problem: expect.stringContaining('rule "x" (rules[0]), turns: a rule needs at least one turn') },
      ]);
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ rules: [{ name: 'x', turns: [{ content: 'hi' }] }] }));
      const routes = createRoleProviders(loadRouterConfig({ ...env, MAESTRO_SCRIPT_PATH: good }));
      expect(routes.strategic.provider).toBe(routes.tactical.provider);
      expect(routes.tactical.provider.name).toBe('scripted');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
