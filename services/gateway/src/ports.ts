/**
 * What the gateway needs from the rest of the cluster, as small interfaces. The HTTP routes
 * depend on these, not on gRPC or NATS, so `buildGatewayApp` can be given real clients in
 * `main.ts` and test doubles or real test servers elsewhere.
 */
import type {
  CancelRunRequest,
  KeyRevoked,
  DefinitionDiff,
  DiffDefinitionsRequest,
  GetDefinitionRequest,
  GetRunHistoryRequest,
  InspectRequest,
  InspectResponse,
  ListDefinitionsRequest,
  ListDefinitionsResponse,
  ListRunsRequest,
  ListRunsResponse,
  PutDefinitionRequest,
  RunHistory,
  SendEventRequest,
  WorkflowDefinition,
  CancelTaskRequest,
  GetModelStatsRequest,
  GetRunRequest,
  GetTaskUsageRequest,
  ListTaskUsageTotalsRequest,
  ListTaskUsageTotalsResponse,
  ModelStats,
  TaskUsage,
  GetTaskRequest,
  ListAgentStepsRequest,
  ListAgentStepsResponse,
  ListTasksRequest,
  ListTasksResponse,
  ForgetRequest,
  ForgetResponse,
  ListMemoriesRequest,
  ListMemoriesResponse,
  Memory,
  RecallRequest,
  RecallResponse,
  RememberRequest,
  Run,
  SubmitTaskRequest,
  Task,
  UpdateMemoryRequest,
} from '@maestro/contracts';

/**
 * The orchestrator's task API. `createGrpcClient(OrchestratorServiceClient, …).call` fits it;
 * failures arrive as maestro errors (UserError with its field, OperationalError …).
 */
export interface OrchestratorApi {
  submitTask(request: SubmitTaskRequest): Promise<Task>;
  getTask(request: GetTaskRequest): Promise<Task>;
  listTasks(request: ListTasksRequest): Promise<ListTasksResponse>;
  cancelTask(request: CancelTaskRequest): Promise<Task>;
  /** The recorded steps of a task's (or run's) tactical agents, oldest first, one page. */
  listAgentSteps(request: ListAgentStepsRequest): Promise<ListAgentStepsResponse>;
}

/** The router's accounting API: a task's durable usage totals and each model's measured figures. */
export interface RouterApi {
  getTaskUsage(request: GetTaskUsageRequest): Promise<TaskUsage>;
  /** The overall totals of 1–500 distinct tasks in one call, in the order asked (a task list page). */
  listTaskUsageTotals(request: ListTaskUsageTotalsRequest): Promise<ListTaskUsageTotalsResponse>;
  getModelStats(request: GetModelStatsRequest): Promise<ModelStats>;
}

/**
 * The workflow-engine's API as the gateway uses it: runs (read, list, page their history, send a
 * person's event, cancel) and definitions (list, read, store a version, diff two versions).
 */
export interface WorkflowApi {
  getRun(request: GetRunRequest): Promise<Run>;
  /** Newest first, without their history; `nextPageToken` is '' on the last page. */
  listRuns(request: ListRunsRequest): Promise<ListRunsResponse>;
  getRunHistory(request: GetRunHistoryRequest): Promise<RunHistory>;
  sendEvent(request: SendEventRequest): Promise<Run>;
  cancelRun(request: CancelRunRequest): Promise<Run>;
  /** The latest version of each definition, or every version of `name` newest first. */
  listDefinitions(request: ListDefinitionsRequest): Promise<ListDefinitionsResponse>;
  /** One version (the latest when `version` is 0). */
  getDefinition(request: GetDefinitionRequest): Promise<WorkflowDefinition>;
  /** Stores a new version, or returns the latest when the document is identical to it. */
  putDefinition(request: PutDefinitionRequest): Promise<WorkflowDefinition>;
  diffDefinitions(request: DiffDefinitionsRequest): Promise<DefinitionDiff>;
}

/** The lock-manager's read side: who holds which concerns and who waits. */
export interface LockApi {
  inspect(request: InspectRequest): Promise<InspectResponse>;
}

/**
 * The memory service's calls the HTTP API exposes. `createGrpcClient(MemoryServiceClient, …).call`
 * fits it; bad input arrives as a UserError naming the (proto) field.
 */
export interface MemoryApi {
  remember(request: RememberRequest): Promise<Memory>;
  recall(request: RecallRequest): Promise<RecallResponse>;
  list(request: ListMemoriesRequest): Promise<ListMemoriesResponse>;
  /** Pin, edit, retire or restore; only the fields that are set change. */
  update(request: UpdateMemoryRequest): Promise<Memory>;
  forget(request: ForgetRequest): Promise<ForgetResponse>;
}

/** One event seen on `maestro.events.>`: its catalogue subject and decoded JSON payload. */
export interface BusEvent {
  /** The catalogue subject, e.g. `maestro.events.run.transitioned`. */
  readonly subject: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Receives the events of one run. */
export type RunEventListener = (event: BusEvent) => void;

/**
 * Live events of runs. A listener registered here sees every later event whose payload `runId`
 * matches, so registering before reading a run's history leaves no gap between the two.
 */
export interface RunEvents {
  /** Starts delivering `runId`'s events to `listener`; call the returned function to stop. */
  listen(runId: string, listener: RunEventListener): () => void;
}

/**
 * Every run's and task's lifecycle events at once (the global `/v1/events` stream). Like
 * {@link RunEvents.listen}, a listener is live the moment it is added.
 */
export interface LifecycleEvents {
  /** Starts delivering every lifecycle event to `listener`; call the returned function to stop. */
  listenAll(listener: RunEventListener): () => void;
}

/**
 * Every lock event (`maestro.events.lock.*`) at once. They name a lease owner, not a run, so a
 * run's stream takes them all and keeps its own subtasks'. Live the moment a listener is added.
 */
export interface LockEvents {
  /** Starts delivering every lock event to `listener`; call the returned function to stop. */
  listenLocks(listener: RunEventListener): () => void;
}

/**
 * Revocations of API keys, told to every gateway replica: the replica that revoked a key
 * announces it, and each replica (itself included) re-checks the open streams of that key at
 * once. Best-effort: an announcement lost on the way leaves the heartbeat's re-check to end them.
 */
export interface KeyRevocations {
  /** Tells every replica; rejects when it could not be sent (the revocation itself stands). */
  announce(revocation: KeyRevoked): Promise<void>;
  /** Starts delivering announcements (this replica's own included); call the returned function to stop. */
  listen(onRevoked: (revocation: KeyRevoked) => void): () => void;
}

/** What `/healthz` reports about the orchestrator's grpc.health Check. */
export const UpstreamHealth = {
  serving: 'serving',
  notServing: 'not_serving',
  unreachable: 'unreachable',
} as const;
export type UpstreamHealth = (typeof UpstreamHealth)[keyof typeof UpstreamHealth];

/** The two things the gateway cannot work without, checked on every `/healthz`. */
export interface HealthProbe {
  /** True while the NATS connection is up (false while reconnecting). */
  natsConnected(): boolean;
  /** The orchestrator's `grpc.health.v1` Check answer, or `unreachable` when the call failed. */
  orchestrator(): Promise<UpstreamHealth>;
}
