/**
 * Which service identities may call which gRPC methods: the one table of the service-to-service
 * call graph, enforced by every `GrpcServer` when it runs over mTLS. `grpc.health.v1` is not in
 * it: health stays open to any peer with a certificate of the cluster's CA.
 *
 * Derived from who dials whom (the `createGrpcClient` calls in services/ and packages/cli):
 * - gateway → orchestrator, workflow-engine, memory, router (usage and model stats),
 *   lock-manager (Inspect), and the orchestrator's health;
 * - orchestrator → workflow-engine, router, memory;
 * - executor → router, lock-manager, memory (Recall);
 * - admin (operators, `maestro` CLI with an admin certificate) → everything.
 * workflow-engine, router, lock-manager and memory call no other service over gRPC.
 */
import { ServiceIdentities as Id, type ServiceIdentity } from './service-identity.js';

/** Callers of one service: `'*'` for every method, plus extra callers per method name (as in the proto). */
export type MethodCallers = Readonly<Record<string, readonly ServiceIdentity[]>>;

/** The call table, by fully qualified service name. */
export const ServiceCallers: Readonly<Record<string, MethodCallers>> = {
  'maestro.v1.OrchestratorService': {
    '*': [Id.gateway, Id.admin],
  },
  'maestro.v1.WorkflowService': {
    '*': [Id.orchestrator, Id.gateway, Id.admin],
  },
  'maestro.v1.RouterService': {
    '*': [Id.orchestrator, Id.executor, Id.admin],
    GetTaskUsage: [Id.gateway],
    ListTaskUsageTotals: [Id.gateway],
    GetModelStats: [Id.gateway],
  },
  'maestro.v1.LockService': {
    '*': [Id.executor, Id.admin],
    Inspect: [Id.gateway],
  },
  'maestro.v1.MemoryService': {
    '*': [Id.orchestrator, Id.gateway, Id.admin],
    Recall: [Id.executor],
  },
  'maestro.v1.ExecutorAdminService': {
    '*': [Id.admin],
  },
};

/** The outcome of {@link checkCaller}: allowed, or why not (for the PERMISSION_DENIED message). */
export type CallerDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether `caller` may call `path` (`/maestro.v1.LockService/Acquire`) under `table`. Unknown
 * services and methods are closed: a service added without a table row refuses every caller
 * until someone decides who may call it.
 */
export function checkCaller(
  path: string,
  caller: string | undefined,
  table: Readonly<Record<string, MethodCallers>> = ServiceCallers,
): CallerDecision {
  const [, service = '', method = ''] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  if (caller === undefined) {
    return { allowed: false, reason: `${path}: the client certificate names no identity (no spiffe://maestro/<service> URI SAN, no CN)` };
  }
  const callers = table[service];
  if (!callers) return { allowed: false, reason: `${path}: ${service || path} accepts no callers (not in the service-callers table); caller "${caller}" refused` };
  const allowed = [...(callers['*'] ?? []), ...(callers[method] ?? [])] as readonly string[];
  if (allowed.includes(caller)) return { allowed: true };
  return { allowed: false, reason: `${path}: caller "${caller}" may not call ${service}/${method} (allowed: ${[...new Set(allowed)].join(', ') || 'none'})` };
}
