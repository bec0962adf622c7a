import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '@maestro/runtime';
import { loadOrchestratorConfig, orchestratorConfigSpec } from './config.js';

/** The `| \`NAME\` | \`default\` | … |` rows of the README's Configuration table. */
function readmeConfigRows(): Map<string, string> {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Layout'));
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `(MAESTRO_[A-Z_]+)` \| ([^|]+) \|/gm)) rows.set(match[1]!, match[2]!.trim());
  return rows;
}

describe('orchestratorConfigSpec', () => {
  it('has working defaults, including a drain shorter than the process shutdown ceiling', () => {
    expect(loadConfig(orchestratorConfigSpec, {})).toMatchObject({
      natsNamespace: '',
      concurrency: 4,
      modelDeadlineMs: 180_000,
      rpcDeadlineMs: 10_000,
      drainTimeoutMs: 20_000,
    });
  });

  it('reads the drain timeout and refuses one past the 30 s shutdown ceiling', () => {
    expect(loadConfig(orchestratorConfigSpec, { MAESTRO_ORCHESTRATOR_DRAIN_TIMEOUT_MS: '5000' }).drainTimeoutMs).toBe(5_000);
    expect(() => loadConfig(orchestratorConfigSpec, { MAESTRO_ORCHESTRATOR_DRAIN_TIMEOUT_MS: '60000' })).toThrow(ConfigError);
  });

  it('refuses a tenant repository root outside MAESTRO_REPO_ROOTS at load, naming MAESTRO_TENANT_REPO_ROOTS', () => {
    const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'orchestrator-config-')));
    try {
      for (const dir of ['repos/acme', 'elsewhere']) mkdirSync(path.join(base, dir), { recursive: true });
      const repoRoots = path.join(base, 'repos');
      const load = (tenantRoots: string) => loadOrchestratorConfig({ MAESTRO_REPO_ROOTS: repoRoots, MAESTRO_TENANT_REPO_ROOTS: tenantRoots });
      expect(load(`acme=${repoRoots}/acme`).tenantRepoRoots).toEqual([{ tenant: 'acme', roots: [path.join(repoRoots, 'acme')] }]);
      expect(() => load(`acme=${base}/elsewhere`)).toThrow(ConfigError);
      expect(() => load(`acme=${base}/elsewhere`)).toThrow(/MAESTRO_TENANT_REPO_ROOTS: every tenant root must lie within MAESTRO_REPO_ROOTS/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('is documented, variable for variable and default for default, in the README', () => {
    const rows = readmeConfigRows();
    const spec = Object.values(orchestratorConfigSpec);
    expect([...rows.keys()].sort()).toEqual(spec.map((v) => v.name).sort());
    for (const v of spec) {
      const documented = rows.get(v.name);
      const empty = v.default === undefined || v.default === '' || (Array.isArray(v.default) && v.default.length === 0);
      const expected = empty ? '(empty)' : `\`${String(v.default)}\``;
      expect([v.name, documented]).toEqual([v.name, expected]);
    }
  });
});
