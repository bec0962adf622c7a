/**
 * Every environment variable the executor reads, declared once. `main.ts` loads it with
 * `loadConfig(executorConfigSpec)`; nothing else reads `process.env`.
 */
import { hostname } from 'node:os';
import { commonEnv, env, grpcAddrEnv, type ConfigOf } from '@maestro/runtime';

/** The executor's configuration spec: shared variables plus the executor's own. */
export const executorConfigSpec = {
  ...commonEnv,
  /** Where the admin gRPC server (health, status, drain) listens; port 0 picks a free port. */
  grpcAddr: grpcAddrEnv.executor,
  routerAddr: grpcAddrEnv.router,
  lockManagerAddr: grpcAddrEnv.lockManager,
  executorId: env.string('MAESTRO_EXECUTOR_ID', {
    default: `${hostname()}-${process.pid}`,
    doc: 'name of this executor in results, events and lock owners (default <hostname>-<pid>)',
  }),
  concurrency: env.int('MAESTRO_EXECUTOR_CONCURRENCY', {
    default: 2,
    min: 1,
    max: 64,
    doc: 'subtasks this executor works on at once',
  }),
  maxSteps: env.int('MAESTRO_EXECUTOR_MAX_STEPS', {
    default: 30,
    min: 1,
    max: 1000,
    doc: 'agent loop step budget per subtask',
  }),
  maxDeliver: env.int('MAESTRO_EXECUTOR_MAX_DELIVER', {
    default: 5,
    min: 1,
    max: 100,
    doc: 'deliveries of one work item before it is dead-lettered and reported failed',
  }),
  ackWaitMs: env.int('MAESTRO_EXECUTOR_ACK_WAIT_MS', {
    default: 60_000,
    min: 1_000,
    max: 3_600_000,
    doc: 'JetStream ack wait; live work signals progress well within it, so only dead executors lose work',
  }),
  lockTtlMs: env.int('MAESTRO_LOCK_TTL_MS', {
    default: 60_000,
    min: 1_000,
    max: 3_600_000,
    doc: 'time to live of lock leases; held leases are extended every third of it',
  }),
  drainTimeoutMs: env.int('MAESTRO_EXECUTOR_DRAIN_TIMEOUT_MS', {
    default: 25_000,
    min: 0,
    max: 3_600_000,
    doc: 'on SIGTERM, how long in-flight subtasks may run before they are aborted and handed back (nak)',
  }),
} as const;

/** The executor's validated, frozen configuration. */
export type ExecutorConfig = ConfigOf<typeof executorConfigSpec>;
