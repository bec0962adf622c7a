/**
 * SubmitTask and `MAESTRO_TENANT_REPO_ROOTS` over real gRPC: with roots per tenant, tenant acme
 * submitting on globex's repository (plainly, or through a link in acme's own root) is refused
 * with INVALID_ARGUMENT, the code REPO_OUTSIDE_TENANT_ROOTS and the field repo_path, storing
 * nothing; a tenant without an entry is refused naming the variable; acme's own repository is
 * accepted. An internal caller (empty tenant) submits as `default`, which has an entry here.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { SubmitTaskRequest } from '@maestro/contracts';
import { parseTenantRepoRoots, RepoSafetyErrorCodes, UserError } from '@maestro/runtime';
import type { OrchestratorDeps } from '../src/orchestrator.js';
import { calcRepo, countRows, startHarness, type Harness, type HarnessOptions } from './harness.js';

const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'orchestrator-tenant-roots-')));
const repos = path.join(base, 'repos');
let h: Harness;

let acmeRepo: string;
let globexRepo: string;

beforeAll(async () => {
  acmeRepo = calcRepo(path.join(repos, 'acme', 'calc'));
  globexRepo = calcRepo(path.join(repos, 'globex', 'ledger'));
  mkdirSync(path.join(repos, 'internal'));
  // The harness hands its options to createOrchestrator as they are.
  const options: HarnessOptions & Pick<OrchestratorDeps, 'tenantRepoRoots'> = {
    repoRoots: [repos],
    tenantRepoRoots: parseTenantRepoRoots(`acme=${path.join(repos, 'acme')};globex=${path.join(repos, 'globex')};default=${path.join(repos, 'internal')}`),
  };
  h = await startHarness(options);
});

afterAll(async () => {
  await h?.close();
  rmSync(base, { recursive: true, force: true });
});

function request(tenant: string, repoPath: string): SubmitTaskRequest {
  return { tenant, goal: 'Add a multiply function', repoPath, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] };
}

async function refusal(tenant: string, repoPath: string): Promise<UserError> {
  const err = await h.client.call.submitTask(request(tenant, repoPath)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect(((err as UserError).cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
  expect(await countRows(h.db, 'tasks')).toBe(0);
  expect(h.workflow.starts).toHaveLength(0);
  return err as UserError;
}

describe('SubmitTask with MAESTRO_TENANT_REPO_ROOTS', () => {
  it("refuses another tenant's repository, naming repo_path, storing nothing", async () => {
    const err = await refusal('acme', globexRepo);
    expect(err.code).toBe(RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS);
    expect(err.field).toBe('repo_path');
    expect(err.message).toContain('outside the repository roots of tenant acme');
  });

  it("refuses a link in the tenant's own root leading into another tenant's, by its real path", async () => {
    symlinkSync(globexRepo, path.join(repos, 'acme', 'ledger-link'));
    const err = await refusal('acme', path.join(repos, 'acme', 'ledger-link'));
    expect(err.code).toBe(RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS);
    expect(err.message).toContain('outside the repository roots of tenant acme');
    expect(err.message).not.toContain(globexRepo);
  });

  it('refuses a tenant without an entry, naming the variable, and an internal caller outside default\'s roots', async () => {
    const err = await refusal('initech', acmeRepo);
    expect(err.code).toBe(RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS);
    expect(err.message).toContain('tenant initech has no repository roots (MAESTRO_TENANT_REPO_ROOTS)');
    expect((await refusal('', acmeRepo)).message).toContain('outside the repository roots of tenant default');
  });

  it("accepts the tenant's own repository", async () => {
    const task = await h.client.call.submitTask(request('acme', acmeRepo));
    expect(task).toMatchObject({ tenant: 'acme', repoPath: acmeRepo });
    expect(await countRows(h.db, 'tasks')).toBe(1);
  });
});
