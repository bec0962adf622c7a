/**
 * `maestro.v1.WorkflowService` over the engine: checks each request's fields (errors name the
 * proto field, e.g. `run_id: must be a UUID`), calls the engine, and converts records to the
 * generated message types (`workflow-messages.ts`). No workflow logic lives here.
 */
import type {
  CancelRunRequest,
  DiffDefinitionsRequest,
  GetDefinitionRequest,
  GetRunHistoryRequest,
  GetRunRequest,
  ListDefinitionsRequest,
  ListDefinitionsResponse,
  ListRunsRequest,
  ListRunsResponse,
  PutDefinitionRequest,
  Run,
  RecordRunNoteRequest,
  SendEventRequest,
  StartRunRequest,
  WatchRunRequest,
  WorkflowServiceServer,
} from '@maestro/contracts';
import { TaskLimits } from '@maestro/contracts';
import { invalidField, serverStream, tenantScope, unary } from '@maestro/runtime';
import { RUN_STATUSES, type TenantScope, type WorkflowEngine } from '../../engine.js';
import { isUuid, type RunStatus } from '../../domain/index.js';
import { decodeRunPageToken, encodeRunPageToken, type RunPageFilters } from './run-page-token.js';
import { toDefinitionDiffMessage, toDefinitionMessage, toRunHistoryMessage, toRunMessage, toTransitionMessage } from './workflow-messages.js';

export { toDefinitionMessage, toRunMessage, toTransitionMessage } from './workflow-messages.js';

/** Request limits of the WorkflowService, in one place. */
export const WorkflowRequestLimits = {
  /** ListRuns returns this many runs when the request says 0. */
  defaultListRuns: 50,
  /** The most runs one ListRuns returns. */
  maxListRuns: 500,
  /** GetRunHistory returns this many transitions when the request says 0. */
  defaultHistory: 500,
  /** The most transitions one GetRunHistory returns. */
  maxHistory: 5000,
  /** The longest idempotency key StartRun accepts. */
  maxIdempotencyKey: 200,
  /** The longest reason CancelRun accepts: the same as a task's cancel reason (the gateway checks it too). */
  maxCancelReason: TaskLimits.cancelReasonMaxChars,
} as const;

/** ListRuns returns this many runs when the request says 0. */
export const DEFAULT_LIST_LIMIT = WorkflowRequestLimits.defaultListRuns;
/** The most runs one ListRuns returns. */
export const MAX_LIST_LIMIT = WorkflowRequestLimits.maxListRuns;

/**
 * The request's tenant: undefined for an empty one (an internal caller acting across tenants),
 * INVALID_ARGUMENT naming `tenant` for one that is not a tenant name.
 */
function tenantOf(req: { tenant: string }): TenantScope {
  return tenantScope(req.tenant);
}

function requireText(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw invalidField(field, 'must not be empty');
  return trimmed;
}

function requireRunId(value: string): string {
  const id = requireText('run_id', value);
  if (!isUuid(id)) throw invalidField('run_id', `must be a UUID (got "${id}")`);
  return id;
}

function optionalVersion(field: string, value: number): number | undefined {
  if (!Number.isInteger(value) || value < 0) throw invalidField(field, `must be 0 (latest) or a version number, got ${value}`);
  return value === 0 ? undefined : value;
}

function requireVersion(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw invalidField(field, `must be a version number (1 or more), got ${value}`);
  return value;
}

/** `value`, or `fallback` when it is 0; INVALID_ARGUMENT on `field` outside 0..max. */
function pageLimit(field: string, value: number, fallback: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw invalidField(field, `must be 0 (default ${fallback}) to ${max}, got ${value}`);
  return value === 0 ? fallback : value;
}

function listRunsFilters(req: ListRunsRequest): RunPageFilters {
  const status = req.status.trim();
  if (status !== '' && !(RUN_STATUSES as readonly string[]).includes(status)) {
    throw invalidField('status', `must be one of ${RUN_STATUSES.join(', ')} or empty, got "${status}"`);
  }
  const definitionName = req.definitionName.trim();
  const definitionVersion = optionalVersion('definition_version', req.definitionVersion);
  if (definitionVersion !== undefined && definitionName === '') throw invalidField('definition_version', 'needs definition_name (a version of which definition?)');
  return {
    ...(status !== '' ? { status } : {}),
    ...(definitionName !== '' ? { definitionName } : {}),
    ...(definitionVersion !== undefined ? { definitionVersion } : {}),
  };
}

/** The handlers of every WorkflowService RPC, ready for `server.add(WorkflowServiceService, …)`. */
export function createWorkflowHandlers(engine: WorkflowEngine): WorkflowServiceServer {
  return {
    putDefinition: unary(async (req: PutDefinitionRequest) => {
      const tenant = tenantOf(req);
      const name = requireText('name', req.name);
      if (req.definition === undefined) throw invalidField('definition', 'must be given (a JSON state machine document)');
      return toDefinitionMessage(await engine.putDefinition(name, req.definition, tenant));
    }),

    getDefinition: unary(async (req: GetDefinitionRequest) => {
      const tenant = tenantOf(req);
      const name = requireText('name', req.name);
      return toDefinitionMessage(await engine.getDefinition(name, optionalVersion('version', req.version), tenant));
    }),

    listDefinitions: unary(async (req: ListDefinitionsRequest): Promise<ListDefinitionsResponse> => {
      const tenant = tenantOf(req);
      const name = req.name.trim();
      return { definitions: (await engine.listDefinitions(name === '' ? undefined : name, tenant)).map(toDefinitionMessage) };
    }),

    diffDefinitions: unary(async (req: DiffDefinitionsRequest) => {
      const tenant = tenantOf(req);
      const name = requireText('name', req.name);
      const fromVersion = requireVersion('from_version', req.fromVersion);
      const toVersion = requireVersion('to_version', req.toVersion);
      return toDefinitionDiffMessage(await engine.diffDefinitions(name, fromVersion, toVersion, tenant));
    }),

    startRun: unary(async (req: StartRunRequest) => {
      const tenant = tenantOf(req);
      const definitionName = requireText('definition_name', req.definitionName);
      const definitionVersion = optionalVersion('definition_version', req.definitionVersion);
      const key = req.idempotencyKey.trim();
      if (key.length > WorkflowRequestLimits.maxIdempotencyKey) throw invalidField('idempotency_key', `must be at most ${WorkflowRequestLimits.maxIdempotencyKey} characters`);
      const view = await engine.startRun({
        ...(tenant !== undefined ? { tenant } : {}),
        definitionName,
        ...(definitionVersion !== undefined ? { definitionVersion } : {}),
        input: req.input ?? {},
        ...(key !== '' ? { idempotencyKey: key } : {}),
      });
      return toRunMessage(view);
    }),

    sendEvent: unary(async (req: SendEventRequest) => {
      const tenant = tenantOf(req);
      const runId = requireRunId(req.runId);
      const type = requireText('type', req.type);
      // The payload's fields travel on the event next to its type (XState's event shape).
      return toRunMessage(await engine.sendEvent(runId, { ...(req.payload ?? {}), type }, tenant));
    }),

    recordRunNote: unary(async (req: RecordRunNoteRequest) => {
      const tenant = tenantOf(req);
      const runId = requireRunId(req.runId);
      const note = { type: requireText('type', req.type), noteId: req.noteId, data: req.data ?? {} };
      return toTransitionMessage(await engine.recordRunNote(runId, note, tenant));
    }),

    cancelRun: unary(async (req: CancelRunRequest) => {
      const tenant = tenantOf(req);
      const runId = requireRunId(req.runId);
      const reason = req.reason.trim();
      if (reason.length > WorkflowRequestLimits.maxCancelReason) throw invalidField('reason', `must be at most ${WorkflowRequestLimits.maxCancelReason} characters`);
      return toRunMessage(await engine.cancelRun(runId, reason, tenant));
    }),

    getRun: unary(async (req: GetRunRequest) => {
      const tenant = tenantOf(req);
      return toRunMessage(await engine.getRun(requireRunId(req.runId), tenant));
    }),

    getRunHistory: unary(async (req: GetRunHistoryRequest) => {
      const tenant = tenantOf(req);
      const runId = requireRunId(req.runId);
      if (!Number.isInteger(req.afterSeq) || req.afterSeq < 0) throw invalidField('after_seq', `must be 0 (from the start) or a seq, got ${req.afterSeq}`);
      const limit = pageLimit('limit', req.limit, WorkflowRequestLimits.defaultHistory, WorkflowRequestLimits.maxHistory);
      return toRunHistoryMessage(await engine.getRunHistory(runId, { afterSeq: req.afterSeq, limit }, tenant));
    }),

    listRuns: unary(async (req: ListRunsRequest): Promise<ListRunsResponse> => {
      const tenant = tenantOf(req);
      const limit = pageLimit('limit', req.limit, WorkflowRequestLimits.defaultListRuns, WorkflowRequestLimits.maxListRuns);
      const filters = listRunsFilters(req);
      const token = req.pageToken.trim();
      const afterId = token === '' ? undefined : decodeRunPageToken(token, filters);
      const page = await engine.listRuns({
        ...(tenant !== undefined ? { tenant } : {}),
        limit,
        ...(filters.status !== undefined ? { status: filters.status as RunStatus } : {}),
        ...(filters.definitionName !== undefined ? { definitionName: filters.definitionName } : {}),
        ...(filters.definitionVersion !== undefined ? { definitionVersion: filters.definitionVersion } : {}),
        ...(afterId !== undefined ? { afterId } : {}),
      });
      return {
        runs: page.runs.map(toRunMessage),
        nextPageToken: page.nextAfterId === undefined ? '' : encodeRunPageToken(page.nextAfterId, filters),
      };
    }),

    watchRun: serverStream(async (req: WatchRunRequest, ctx, send: (run: Run) => void) => {
      const tenant = tenantOf(req);
      const runId = requireRunId(req.runId);
      for await (const run of engine.watchRun(runId, ctx.signal, tenant)) send(toRunMessage(run));
    }),
  };
}
