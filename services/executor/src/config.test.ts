import { ConfigError, loadConfig } from '@maestro/runtime';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executorConfigSpec, RecallDefaults, WorkspaceDefaults } from './config.js';

describe('executorConfigSpec', () => {
  it('has working defaults for a local executor', () => {
    const config = loadConfig(executorConfigSpec, {});
    expect(config).toMatchObject({
      grpcAddr: '127.0.0.1:50056',
      routerAddr: '127.0.0.1:50053',
      lockManagerAddr: '127.0.0.1:50054',
      concurrency: 2,
      maxSteps: 30,
      maxDeliver: 5,
      ackWaitMs: 15_000,
      lockTtlMs: 60_000,
    });
    expect(config.executorId).toMatch(new RegExp(`-${process.pid}$`));
    expect(config).toMatchObject({ ...WorkspaceDefaults });
    expect(config.worktreeRoot).toBe(join(tmpdir(), 'maestro-worktrees'));
  });

  it('reads the worktree, lock and merge settings', () => {
    const config = loadConfig(executorConfigSpec, {
      MAESTRO_EXECUTOR_WORKTREE_ROOT: '/var/maestro/wt',
      MAESTRO_EXECUTOR_LOCK_WAIT_MS: '5000',
      MAESTRO_EXECUTOR_DECLARED_LOCK_WAIT_MS: '7000',
      MAESTRO_EXECUTOR_MERGE_LOCK_WAIT_MS: '9000',
      MAESTRO_EXECUTOR_MERGE_ATTEMPTS: '3',
    });
    expect(config).toMatchObject({ worktreeRoot: '/var/maestro/wt', lockWaitMs: 5_000, declaredLockWaitMs: 7_000, mergeLockWaitMs: 9_000, mergeAttempts: 3 });
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_MERGE_ATTEMPTS: '0' })).toThrow('MAESTRO_EXECUTOR_MERGE_ATTEMPTS');
  });

  it('reads and checks the worktree links', () => {
    expect(loadConfig(executorConfigSpec, {}).worktreeLinks).toEqual(['node_modules']);
    expect(loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_WORKTREE_LINKS: 'node_modules, packages/*/node_modules/' }).worktreeLinks).toEqual([
      'node_modules',
      'packages/*/node_modules',
    ]);
    expect(loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_WORKTREE_LINKS: 'none' }).worktreeLinks).toEqual([]);
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_WORKTREE_LINKS: 'node_modules,../up' })).toThrow(
      /MAESTRO_EXECUTOR_WORKTREE_LINKS: worktree link "\.\.\/up" must name a path inside the repository/,
    );
  });

  it('reads the executor variables', () => {
    const config = loadConfig(executorConfigSpec, {
      MAESTRO_EXECUTOR_GRPC_ADDR: '0.0.0.0:0',
      MAESTRO_EXECUTOR_ID: 'exec-7',
      MAESTRO_EXECUTOR_CONCURRENCY: '8',
      MAESTRO_LOCK_TTL_MS: '15000',
    });
    expect(config).toMatchObject({ grpcAddr: '0.0.0.0:0', executorId: 'exec-7', concurrency: 8, lockTtlMs: 15_000 });
  });

  it('refuses an executor id that would make lock owners ambiguous or escape its worktree directory', () => {
    expect(loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_ID: 'pod-3.executor_a' }).executorId).toBe('pod-3.executor_a');
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_ID: 'host:7' })).toThrow(/MAESTRO_EXECUTOR_ID: expected letters, digits, '\.', '_' and '-' \(no ':' or '\/'\), got "host:7"/);
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_ID: 'a/b' })).toThrow('MAESTRO_EXECUTOR_ID');
  });

  it('recalls nothing unless given the memory address, and reads the recall settings', () => {
    const defaults = loadConfig(executorConfigSpec, {});
    expect(defaults).toMatchObject({ memoryAddr: '', recallDeadlineMs: RecallDefaults.deadlineMs, recallLimit: RecallDefaults.limit });
    const config = loadConfig(executorConfigSpec, {
      MAESTRO_MEMORY_GRPC_ADDR: 'memory:50055',
      MAESTRO_EXECUTOR_RECALL_DEADLINE_MS: '1500',
      MAESTRO_EXECUTOR_RECALL_LIMIT: '20',
    });
    expect(config).toMatchObject({ memoryAddr: 'memory:50055', recallDeadlineMs: 1_500, recallLimit: 20 });
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_MEMORY_GRPC_ADDR: 'memory' })).toThrow('MAESTRO_MEMORY_GRPC_ADDR: expected host:port');
    // Memory's own ceiling on one recall.
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_RECALL_LIMIT: '51' })).toThrow('MAESTRO_EXECUTOR_RECALL_LIMIT: expected 1..50, got 51');
  });

  it('summarises condensed turns by rule unless told to use the model', () => {
    expect(loadConfig(executorConfigSpec, {}).summariser).toBe('rule');
    expect(loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_SUMMARISER: 'model' }).summariser).toBe('model');
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_SUMMARISER: 'llm' })).toThrow('MAESTRO_EXECUTOR_SUMMARISER');
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig(executorConfigSpec, { MAESTRO_EXECUTOR_CONCURRENCY: '0', MAESTRO_EXECUTOR_MAX_STEPS: 'many' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('MAESTRO_EXECUTOR_CONCURRENCY: expected 1..64, got 0');
    expect((error as ConfigError).message).toContain('MAESTRO_EXECUTOR_MAX_STEPS');
  });

  it('reads the command policy additions and names a malformed one', () => {
    const config = loadConfig(executorConfigSpec, { MAESTRO_COMMAND_ALLOW: 'make lint, tox', MAESTRO_COMMAND_DENY: '[["npm","publish"]]' });
    expect(config.commandAllow).toBe('make lint, tox');
    expect(config.commandDeny).toBe('[["npm","publish"]]');
    expect(loadConfig(executorConfigSpec, {}).commandAllow).toBe('');
    expect(() => loadConfig(executorConfigSpec, { MAESTRO_COMMAND_ALLOW: '[["make",' })).toThrow(/MAESTRO_COMMAND_ALLOW/);
  });
});
