/**
 * Contracts shared by every CodeMaestro service: the gRPC types and clients generated from
 * `proto/` (never edit `src/gen`; run `make proto`), the NATS subject catalogue and the
 * payload schemas of every message on the bus. Services share these, never internals.
 *
 * @example
 * import { OrchestratorServiceClient, Subjects, ActivityRequestSchema } from '@maestro/contracts';
 */
export * from './subjects.js';
export * from './messages.js';
export { TaskLimits, WORKFLOW_NAME_PATTERN } from './limits.js';
export { ModelPhases, type ModelPhase } from './model-phases.js';
export { MemoryRecallLimits, toRecallQueryText } from './recall-query.js';
export { isMemoryScope, MEMORY_SCOPE_RULE, MemoryScopeLimits, PERSONAL_SCOPE_PATTERN, PROJECT_SCOPE } from './memory-scope.js';
export { concernCovers, concernsOverlap, firstOverlap, isPathWithin } from './concern-overlap.js';
export { executorLockOwner, parseExecutorLockOwner, type ExecutorLockOwner } from './lock-owner.js';
export { API_KEY_PREFIX, formatApiKey, generateApiKey, parseApiKey, type ApiKeyParts, type GeneratedApiKey } from './api-key.js';
export { isTenantName, TENANT_PATTERN, TENANT_RULE, Tenants } from './tenant.js';
export * from './gen/maestro/v1/common.js';
export * from './gen/maestro/v1/orchestrator.js';
export * from './gen/maestro/v1/workflow.js';
export * from './gen/maestro/v1/router.js';
export * from './gen/maestro/v1/lock.js';
export * from './gen/maestro/v1/memory.js';
export * from './gen/maestro/v1/executor.js';
export {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthListRequest,
  HealthListResponse,
  HealthService,
  HealthClient,
  type HealthServer,
} from './gen/grpc/health/v1/health.js';
