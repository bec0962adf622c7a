/**
 * SubmitTask and `MAESTRO_REPO_ROOTS` over real gRPC: a repository whose real path is outside
 * the roots — plainly, through a symlink inside them, or in a sibling directory whose name
 * merely starts with a root's — is refused with INVALID_ARGUMENT, the code REPO_OUTSIDE_ROOTS
 * and the field repo_path, storing nothing; one inside is accepted and stored as its real path.
 * A repository whose config defines a filter driver is refused with REPO_UNSAFE_CONFIG.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { SubmitTaskRequest } from '@maestro/contracts';
import { RepoSafetyErrorCodes, UserError } from '@maestro/runtime';
import { calcRepo, countRows, startHarness, type Harness } from './harness.js';

const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'orchestrator-roots-')));
const root = path.join(base, 'roots');
let h: Harness;

beforeAll(async () => {
  mkdirSync(root);
  h = await startHarness({ repoRoots: [root] });
});

afterAll(async () => {
  await h?.close();
  rmSync(base, { recursive: true, force: true });
});

function request(repoPath: string): SubmitTaskRequest {
  return { tenant: '', goal: 'Add a multiply function', repoPath, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] };
}

async function refusal(repoPath: string): Promise<UserError> {
  const err = await h.client.call.submitTask(request(repoPath)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('SubmitTask refuses a repository outside MAESTRO_REPO_ROOTS, naming repo_path, storing nothing', () => {
  it.each([
    ['outside every root', () => calcRepo(path.join(base, 'elsewhere', 'calc'))],
    ['a symlink inside the root pointing outside', () => {
      const target = calcRepo(path.join(base, 'linked-target', 'calc'));
      symlinkSync(target, path.join(root, 'link-out'));
      return path.join(root, 'link-out');
    }],
    ['in a sibling whose name starts with the root (prefix confusion)', () => calcRepo(path.join(`${root}-evil`, 'calc'))],
    ['reached by .. from inside the root', () => {
      calcRepo(path.join(base, 'dotdot', 'calc'));
      return `${root}/../dotdot/calc`;
    }],
  ])('%s', async (_what, make) => {
    const repoPath = make();
    const err = await refusal(repoPath);
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.code).toBe(RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS);
    expect(err.field).toBe('repo_path');
    expect(err.message).toContain('repo_path:');
    expect(err.message).toContain(root);
    expect(await countRows(h.db, 'tasks')).toBe(0);
    expect(h.workflow.starts).toHaveLength(0);
  });

  it('refuses a repository whose config defines a filter driver, naming the key', async () => {
    const repo = calcRepo(path.join(root, 'filtered'));
    execFileSync('git', ['-C', repo, 'config', 'filter.sneaky.smudge', 'touch /tmp/should-never-run']);
    const err = await refusal(repo);
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.code).toBe(RepoSafetyErrorCodes.REPO_UNSAFE_CONFIG);
    expect(err.field).toBe('repo_path');
    expect(err.message).toContain('filter.sneaky.smudge');
    expect(await countRows(h.db, 'tasks')).toBe(0);
  });
});

describe('a repository inside the root', () => {
  it('is accepted and stored as its real path, also through a symlink inside the root', async () => {
    const repo = calcRepo(path.join(root, 'team', 'calc'));
    symlinkSync(repo, path.join(root, 'calc-link'));
    const task = await h.client.call.submitTask(request(path.join(root, 'calc-link')));
    expect(task.repoPath).toBe(repo);
    expect(await countRows(h.db, 'tasks')).toBe(1);
  });
});
