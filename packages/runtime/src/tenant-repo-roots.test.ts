import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { RepoSafetyErrorCodes } from './repo-roots.js';
import { checkTenantRepoRoots, parseTenantRepoRoots, resolveRepoForTenant, tenantRepoRootsEnv, type TenantRepoRoots } from './tenant-repo-roots.js';

// <base>/repos is MAESTRO_REPO_ROOTS; acme, globex and shared are tenant roots below it.
let base: string;
let repos: string;
let acme: string;
let globex: string;
let shared: string;
beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'maestro-tenant-roots-')));
  repos = path.join(base, 'repos');
  acme = path.join(repos, 'acme');
  globex = path.join(repos, 'globex');
  shared = path.join(repos, 'shared');
  for (const dir of [acme, globex, shared, path.join(base, 'outside')]) mkdirSync(dir, { recursive: true });
  mkdirSync(path.join(acme, 'calc'));
  mkdirSync(path.join(globex, 'ledger'));
  mkdirSync(path.join(shared, 'tools'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function loadError(raw: string): ConfigError {
  let thrown: unknown;
  try {
    loadConfig({ tenantRepoRoots: tenantRepoRootsEnv('MAESTRO_TENANT_REPO_ROOTS') }, { MAESTRO_TENANT_REPO_ROOTS: raw });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('parseTenantRepoRoots', () => {
  it('reads ;-separated tenant=roots entries as real paths, skipping empty entries', () => {
    symlinkSync(acme, path.join(base, 'acme-link'));
    expect(parseTenantRepoRoots(` acme = ${path.join(base, 'acme-link')}:${shared}/ ;; globex=${globex};`)).toEqual([
      { tenant: 'acme', roots: [acme, shared] },
      { tenant: 'globex', roots: [globex] },
    ]);
    expect(parseTenantRepoRoots('')).toEqual([]);
  });

  it.each([
    ['an entry without "="', () => `${acme}`, 'must read tenant=roots'],
    ['a bad tenant name', () => `Acme=${acme}`, 'the tenant "Acme" must be a tenant name'],
    ['an empty tenant name', () => `=${acme}`, 'the tenant "" must be a tenant name'],
    ['a tenant listed twice', () => `acme=${acme};acme=${shared}`, 'tenant acme is listed twice'],
    ['a relative root', () => 'acme=repos/acme', 'every root must be an absolute path'],
    ['a missing root', () => `acme=${path.join(base, 'missing')}`, 'does not exist'],
    ['an entry with no roots', () => 'acme=:', 'lists no roots'],
  ])('refuses %s, naming the entry; the loader names MAESTRO_TENANT_REPO_ROOTS', (_what, make, problem) => {
    const raw = make();
    const entry = raw.split(';').pop()!;
    expect(() => parseTenantRepoRoots(raw)).toThrow(problem);
    expect(() => parseTenantRepoRoots(raw)).toThrow(`entry "${entry}"`);
    expect(loadError(raw).problems[0]?.variable).toBe('MAESTRO_TENANT_REPO_ROOTS');
  });

  it('is empty when the variable is unset (every tenant shares MAESTRO_REPO_ROOTS)', () => {
    expect(loadConfig({ tenantRepoRoots: tenantRepoRootsEnv('MAESTRO_TENANT_REPO_ROOTS') }, {}).tenantRepoRoots).toEqual([]);
  });
});

describe('checkTenantRepoRoots', () => {
  it('accepts tenant roots within MAESTRO_REPO_ROOTS, one of them being a root itself', () => {
    expect(() => checkTenantRepoRoots(parseTenantRepoRoots(`acme=${acme}:${shared};globex=${repos}`), [repos])).not.toThrow();
    expect(() => checkTenantRepoRoots([], [])).not.toThrow();
  });

  it('refuses a tenant root outside MAESTRO_REPO_ROOTS with a ConfigError naming the variable and the root', () => {
    const outside = path.join(base, 'outside');
    let thrown: unknown;
    try {
      checkTenantRepoRoots(parseTenantRepoRoots(`acme=${acme};globex=${outside}`), [repos]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problem = (thrown as ConfigError).problems[0]!;
    expect(problem.variable).toBe('MAESTRO_TENANT_REPO_ROOTS');
    expect(problem.problem).toContain(`${outside} (tenant globex)`);
    expect(problem.problem).not.toContain(`${acme} (tenant acme)`);
    expect(() => checkTenantRepoRoots(parseTenantRepoRoots(`acme=${acme}`), [])).toThrow('MAESTRO_REPO_ROOTS is empty');
  });

  it('judges a tenant root by its real path: a link inside MAESTRO_REPO_ROOTS to a directory outside is outside', () => {
    const link = path.join(repos, 'sneaky');
    symlinkSync(path.join(base, 'outside'), link);
    try {
      expect(() => checkTenantRepoRoots(parseTenantRepoRoots(`acme=${link}`), [repos])).toThrow(ConfigError);
    } finally {
      rmSync(link);
    }
  });
});

describe('resolveRepoForTenant', () => {
  let tenantRepoRoots: readonly TenantRepoRoots[];
  beforeAll(() => {
    tenantRepoRoots = parseTenantRepoRoots(`acme=${acme}:${shared};globex=${globex}`);
  });

  it('accepts a repository within its own tenant roots, shared roots included, at its real path', async () => {
    await expect(resolveRepoForTenant(path.join(acme, 'calc'), 'acme', { repoRoots: [repos], tenantRepoRoots })).resolves.toEqual({
      ok: true,
      realPath: path.join(acme, 'calc'),
    });
    await expect(resolveRepoForTenant(path.join(shared, 'tools'), 'acme', { repoRoots: [repos], tenantRepoRoots })).resolves.toMatchObject({ ok: true });
  });

  it("refuses another tenant's repository with REPO_OUTSIDE_TENANT_ROOTS, naming the tenant and its roots", async () => {
    const found = await resolveRepoForTenant(path.join(globex, 'ledger'), 'acme', { repoRoots: [repos], tenantRepoRoots });
    expect(found).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS });
    expect(!found.ok && found.problem).toContain(`outside the repository roots of tenant acme, ${acme}:${shared} (MAESTRO_TENANT_REPO_ROOTS)`);
    // A root shared by one tenant is not shared by the others.
    await expect(resolveRepoForTenant(path.join(shared, 'tools'), 'globex', { repoRoots: [repos], tenantRepoRoots })).resolves.toMatchObject({
      ok: false,
      code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS,
    });
  });

  it("refuses a path inside the tenant's root that is a symlink into another tenant's root, by its real path, without naming it", async () => {
    const link = path.join(acme, 'ledger-link');
    symlinkSync(path.join(globex, 'ledger'), link);
    const found = await resolveRepoForTenant(link, 'acme', { repoRoots: [repos], tenantRepoRoots });
    expect(found).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS });
    // Refused by where it leads, without naming it: that would show another tenant's layout.
    expect(!found.ok && found.problem).not.toContain(globex);
  });

  it("answers a missing path behind a link into another tenant's tree like an existing one there", async () => {
    const link = path.join(acme, 'peek');
    symlinkSync(globex, link);
    const there = await resolveRepoForTenant(path.join(link, 'ledger'), 'acme', { repoRoots: [repos], tenantRepoRoots });
    const notThere = await resolveRepoForTenant(path.join(link, 'no-such-repo'), 'acme', { repoRoots: [repos], tenantRepoRoots });
    expect(there).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS });
    expect(notThere).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS });
  });

  it("judges a tenant root symlinked into another tenant's tree by the real path it was given at start", async () => {
    // Operator lists <repos>/acme-alias for acme, but it is a link to globex's tree: acme gets
    // globex's directory as written (real path), so globex's repository is acme's root too,
    // and acme's own directory is not.
    const alias = path.join(repos, 'acme-alias');
    symlinkSync(globex, alias);
    try {
      const aliased = parseTenantRepoRoots(`acme=${alias};globex=${globex}`);
      expect(aliased[0]?.roots).toEqual([globex]);
      await expect(resolveRepoForTenant(path.join(acme, 'calc'), 'acme', { repoRoots: [repos], tenantRepoRoots: aliased })).resolves.toMatchObject({
        ok: false,
        code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS,
      });
    } finally {
      rmSync(alias);
    }
  });

  it('refuses every repository of a tenant without an entry (fail closed), naming the variable', async () => {
    const found = await resolveRepoForTenant(path.join(acme, 'calc'), 'default', { repoRoots: [repos], tenantRepoRoots });
    expect(found).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS });
    expect(!found.ok && found.problem).toContain('tenant default has no repository roots (MAESTRO_TENANT_REPO_ROOTS)');
  });

  it('keeps the global check first: outside MAESTRO_REPO_ROOTS is REPO_OUTSIDE_ROOTS, a missing path REPO_NOT_FOUND', async () => {
    mkdirSync(path.join(base, 'outside', 'calc'), { recursive: true });
    await expect(resolveRepoForTenant(path.join(base, 'outside', 'calc'), 'acme', { repoRoots: [repos], tenantRepoRoots })).resolves.toMatchObject({
      ok: false,
      code: RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS,
    });
    await expect(resolveRepoForTenant(path.join(acme, 'nope'), 'acme', { repoRoots: [repos], tenantRepoRoots })).resolves.toMatchObject({
      ok: false,
      code: RepoSafetyErrorCodes.REPO_NOT_FOUND,
    });
  });

  it("answers a missing path in another tenant's tree exactly like an existing one, so its existence is not told", async () => {
    const existing = await resolveRepoForTenant(path.join(globex, 'ledger'), 'acme', { repoRoots: [repos], tenantRepoRoots });
    const missing = await resolveRepoForTenant(path.join(globex, 'secret-project'), 'acme', { repoRoots: [repos], tenantRepoRoots });
    expect(missing).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS });
    expect(!missing.ok && missing.problem.replace('secret-project', 'ledger')).toBe(!existing.ok && existing.problem);
  });

  it('without tenant roots lets every tenant use MAESTRO_REPO_ROOTS, as before', async () => {
    await expect(resolveRepoForTenant(path.join(globex, 'ledger'), 'acme', { repoRoots: [repos] })).resolves.toMatchObject({ ok: true });
    await expect(resolveRepoForTenant(path.join(globex, 'ledger'), 'nobody', { repoRoots: [repos], tenantRepoRoots: [] })).resolves.toMatchObject({ ok: true });
  });
});
