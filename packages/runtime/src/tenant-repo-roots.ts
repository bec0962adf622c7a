/**
 * Repository roots per tenant: `MAESTRO_TENANT_REPO_ROOTS`, `;`-separated `tenant=roots` entries
 * whose roots read like `MAESTRO_REPO_ROOTS` (colon-separated absolute directories, real paths
 * resolved at start) and lie within it (the global outer bound, checked at start). When set, a
 * task's repository must lie within its own tenant's roots, and a tenant without an entry is
 * refused every repository (fail closed). Empty, every tenant shares `MAESTRO_REPO_ROOTS`. The
 * orchestrator checks at SubmitTask, the executor again right before it touches the repository.
 *
 * @example
 * const tenantRoots = parseTenantRepoRoots('acme=/srv/repos/acme:/srv/shared;globex=/srv/repos/globex');
 * checkTenantRepoRoots(tenantRoots, repoRoots); // ConfigError naming the variable if one lies outside
 * const found = await resolveRepoForTenant('/srv/repos/acme/calc', 'acme', { repoRoots, tenantRepoRoots: tenantRoots });
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { isTenantName, TENANT_RULE } from '@maestro/contracts';
import { ConfigError, type EnvVar } from './config.js';
import { isInsideRoots, parseRepoRoots, REPO_ROOTS_VARIABLE, RepoSafetyErrorCodes, resolveRepoInRoots, type RepoInRoots } from './repo-roots.js';

/** The environment variable naming each tenant's repository roots. */
export const TENANT_REPO_ROOTS_VARIABLE = 'MAESTRO_TENANT_REPO_ROOTS';

/** One tenant's entry of `MAESTRO_TENANT_REPO_ROOTS`: its name and its roots (real paths). */
export interface TenantRepoRoots {
  readonly tenant: string;
  readonly roots: readonly string[];
}

/** Where repositories may live: the global roots and, when any are given, each tenant's. */
export interface RepoRootsScope {
  /** `MAESTRO_REPO_ROOTS`, real paths; empty refuses every repository. */
  readonly repoRoots: readonly string[];
  /**
   * `MAESTRO_TENANT_REPO_ROOTS`, parsed by {@link parseTenantRepoRoots}.
   * @default [] (every tenant shares `repoRoots`)
   */
  readonly tenantRepoRoots?: readonly TenantRepoRoots[];
}

/**
 * Parses a `MAESTRO_TENANT_REPO_ROOTS` value: `;`-separated `tenant=roots` entries (empty entries
 * ignored), each tenant a tenant name listed once, its roots as {@link parseRepoRoots} reads them
 * (real paths now, at start) and at least one. Throws an Error naming the entry that is wrong
 * (the config loader names the variable). The result is frozen.
 *
 * @example
 * parseTenantRepoRoots('acme=/srv/repos/acme:/srv/shared; globex=/srv/repos/globex');
 * // [{ tenant: 'acme', roots: ['/srv/repos/acme', '/srv/shared'] }, { tenant: 'globex', roots: ['/srv/repos/globex'] }]
 */
export function parseTenantRepoRoots(raw: string): readonly TenantRepoRoots[] {
  const entries: TenantRepoRoots[] = [];
  for (const entry of raw.split(';').map((e) => e.trim())) {
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq < 0) throw new Error(`entry "${entry}" must read tenant=roots, e.g. acme=/srv/repos/acme`);
    const tenant = entry.slice(0, eq).trim();
    if (!isTenantName(tenant)) throw new Error(`entry "${entry}": the tenant "${tenant}" ${TENANT_RULE}`);
    if (entries.some((e) => e.tenant === tenant)) throw new Error(`entry "${entry}": tenant ${tenant} is listed twice; give each tenant one entry`);
    let roots: string[];
    try {
      roots = parseRepoRoots(entry.slice(eq + 1));
    } catch (err) {
      throw new Error(`entry "${entry}": ${err instanceof Error ? err.message : String(err)}`);
    }
    if (roots.length === 0) throw new Error(`entry "${entry}" lists no roots; give the tenant's directories, or remove the entry (a tenant without one is refused every repository)`);
    entries.push(Object.freeze({ tenant, roots: Object.freeze(roots) }));
  }
  return Object.freeze(entries);
}

/**
 * Checks at start that every tenant root lies within one of `repoRoots` (`MAESTRO_REPO_ROOTS`,
 * the outer bound for every tenant); throws a `ConfigError` naming `MAESTRO_TENANT_REPO_ROOTS`
 * and each root outside.
 */
export function checkTenantRepoRoots(tenantRepoRoots: readonly TenantRepoRoots[], repoRoots: readonly string[]): void {
  const outside = tenantRepoRoots.flatMap(({ tenant, roots }) =>
    roots.filter((root) => !isInsideRoots(root, repoRoots)).map((root) => `${root} (tenant ${tenant})`),
  );
  if (outside.length === 0) return;
  const bound = repoRoots.length === 0 ? `${REPO_ROOTS_VARIABLE} is empty` : `${REPO_ROOTS_VARIABLE} is ${repoRoots.join(':')}`;
  throw new ConfigError([
    {
      variable: TENANT_REPO_ROOTS_VARIABLE,
      problem: `every tenant root must lie within ${REPO_ROOTS_VARIABLE}, but ${outside.join(', ')} ${outside.length === 1 ? 'does' : 'do'} not (${bound}); move the root or widen ${REPO_ROOTS_VARIABLE}`,
    },
  ]);
}

/** The roots `tenant` may use: its entry's, or undefined when it has none. */
export function tenantRepoRootsOf(tenant: string, tenantRepoRoots: readonly TenantRepoRoots[]): readonly string[] | undefined {
  return tenantRepoRoots.find((e) => e.tenant === tenant)?.roots;
}

/**
 * {@link resolveRepoInRoots} for a task of `tenant` (a tenant name; callers map an internal
 * caller's empty tenant to `default`, as its task is stored). Without tenant roots it is exactly
 * `resolveRepoInRoots(repoPath, repoRoots)`. With them, a tenant without an entry is refused
 * before anything is resolved, and a repository whose real path is within `MAESTRO_REPO_ROOTS`
 * but outside the tenant's roots is refused with `REPO_OUTSIDE_TENANT_ROOTS`, and so is a path
 * that does not exist outside them (not `REPO_NOT_FOUND`: that would tell which paths exist in
 * another tenant's tree). The problem text follows a field name, like `resolveRepoInRoots`'s.
 */
export async function resolveRepoForTenant(repoPath: string, tenant: string, scope: RepoRootsScope): Promise<RepoInRoots> {
  const tenantRepoRoots = scope.tenantRepoRoots ?? [];
  if (tenantRepoRoots.length === 0) return resolveRepoInRoots(repoPath, scope.repoRoots);
  const roots = tenantRepoRootsOf(tenant, tenantRepoRoots);
  if (roots === undefined) {
    return {
      ok: false,
      code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS,
      problem: `${repoPath} is refused: tenant ${tenant} has no repository roots (${TENANT_REPO_ROOTS_VARIABLE}); an operator adds an entry ${tenant}=<directories> for it`,
    };
  }
  const found = await resolveRepoInRoots(repoPath, scope.repoRoots);
  const outside = (): RepoInRoots => ({
    ok: false,
    code: RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS,
    problem: `${repoPath} is outside the repository roots of tenant ${tenant}, ${roots.join(':')} (${TENANT_REPO_ROOTS_VARIABLE}); use a repository under one of them`,
  });
  if (!found.ok) {
    // A missing path outside the tenant's roots is refused like an existing one, so a tenant
    // cannot learn which paths exist in another tenant's tree; "outside" is judged by where the
    // path really leads (its deepest existing directory resolved), not as written, so a symlink
    // inside the tenant's tree pointing into another's tells nothing either.
    const missingOutside =
      found.code === RepoSafetyErrorCodes.REPO_NOT_FOUND && path.isAbsolute(repoPath) && !repoPath.includes('\0') && !isInsideRoots(await leadsTo(path.resolve(repoPath)), roots);
    return missingOutside ? outside() : found;
  }
  // The real path is not named: it would show the layout of another tenant's tree.
  if (!isInsideRoots(found.realPath, roots)) return outside();
  return found;
}

/** Where `absolute` leads: the real path of its deepest existing ancestor, with the rest appended. */
async function leadsTo(absolute: string): Promise<string> {
  const rest: string[] = [];
  for (let at = absolute; ; at = path.dirname(at)) {
    try {
      return path.join(await realpath(at), ...rest.reverse());
    } catch {
      if (at === path.dirname(at)) return absolute;
      rest.push(path.basename(at));
    }
  }
}

/**
 * The `MAESTRO_TENANT_REPO_ROOTS` variable, as the orchestrator and executor configs declare it
 * (each names it, so deploy/check-consistency.mjs sees the declaration). Unset, it is the empty
 * list and every tenant shares `MAESTRO_REPO_ROOTS`; {@link checkTenantRepoRoots} runs after
 * loading, since it needs both variables.
 */
export function tenantRepoRootsEnv(name: typeof TENANT_REPO_ROOTS_VARIABLE): EnvVar<readonly TenantRepoRoots[]> {
  return {
    name,
    doc: `";"-separated tenant=roots entries (roots as in ${REPO_ROOTS_VARIABLE} and within them, e.g. acme=/srv/repos/acme:/srv/shared;globex=/srv/repos/globex): a task's repository must lie within its tenant's roots, a tenant without an entry is refused; unset: every tenant shares ${REPO_ROOTS_VARIABLE}`,
    default: [],
    parse: parseTenantRepoRoots,
  };
}
