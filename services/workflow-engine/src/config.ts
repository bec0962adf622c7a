/**
 * Every environment variable the workflow-engine reads, once: name, type, default, meaning.
 * `loadWorkflowEngineConfig()` runs once in `main.ts`; nothing else reads `process.env`.
 */
import { commonEnv, env, grpcAddrEnv, loadConfig, type ConfigOf } from '@maestro/runtime';

/** The engine's configuration spec (also rendered into the README's table). */
export const workflowEngineConfigSpec = {
  ...commonEnv,
  grpcAddr: grpcAddrEnv.workflowEngine,
  busNamespace: env.string('MAESTRO_BUS_NAMESPACE', {
    default: '',
    doc: 'prefix for NATS subjects, streams and consumers (lets test runs share a server); empty in production',
  }),
  resultConcurrency: env.int('MAESTRO_WORKFLOW_ENGINE_RESULT_CONCURRENCY', {
    default: 4,
    min: 1,
    max: 64,
    doc: 'activity results applied at once by this process',
  }),
  watchPollMs: env.int('MAESTRO_WORKFLOW_ENGINE_WATCH_POLL_MS', {
    default: 5000,
    min: 100,
    max: 600_000,
    doc: 'WatchRun re-reads a run at least this often (covers changes made by other replicas)',
  }),
} as const;

/** The engine's validated, frozen configuration. */
export type WorkflowEngineConfig = ConfigOf<typeof workflowEngineConfigSpec>;

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadWorkflowEngineConfig(source: Record<string, string | undefined> = process.env): WorkflowEngineConfig {
  return loadConfig(workflowEngineConfigSpec, source);
}
