/**
 * `maestro.v1.WorkflowService` over the engine: checks each request's fields (errors name the
 * proto field, e.g. `run_id: must be a UUID`), calls the engine, and converts records to the
 * generated message types. No workflow logic lives here.
 */
import type {
  GetDefinitionRequest,
  GetRunRequest,
  ListDefinitionsRequest,
  ListDefinitionsResponse,
  ListRunsRequest,
  ListRunsResponse,
  PutDefinitionRequest,
  Run,
  SendEventRequest,
  StartRunRequest,
  Transition,
  WatchRunRequest,
  WorkflowDefinition,
  WorkflowServiceServer,
} from '@maestro/contracts';
import { invalidField, serverStream, unary } from '@maestro/runtime';
import { RUN_STATUSES, type RunView, type WorkflowEngine } from '../../engine.js';
import { isUuid, type RunStatus } from '../../domain/index.js';
import type { DefinitionRecord, RunRecord, TransitionRecord } from '../../store/run-store.js';

/** ListRuns returns this many runs when the request says 0. */
export const DEFAULT_LIST_LIMIT = 50;
/** The most runs one ListRuns returns. */
export const MAX_LIST_LIMIT = 500;
const MAX_KEY_LENGTH = 200;

/** A Struct-safe copy: JSON drops `undefined` members, which a protobuf Struct cannot hold. */
function toStruct(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/** The wire form of a stored definition version. */
export function toDefinitionMessage(record: DefinitionRecord): WorkflowDefinition {
  return { name: record.name, version: record.version, definition: toStruct(record.definition), createdAt: record.createdAt };
}

/** The wire form of a history row. */
export function toTransitionMessage(t: TransitionRecord): Transition {
  return { seq: t.seq, fromState: t.fromState, toState: t.toState, eventType: t.eventType, event: toStruct(t.event), at: t.at };
}

/** The wire form of a run (history empty when the record has none, as in ListRuns). */
export function toRunMessage(run: RunRecord | RunView): Run {
  return {
    id: run.id,
    definitionName: run.definitionName,
    definitionVersion: run.definitionVersion,
    status: run.status,
    state: run.state,
    attempt: run.attempt,
    context: toStruct(run.context),
    history: 'history' in run ? run.history.map(toTransitionMessage) : [],
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
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

/** The handlers of every WorkflowService RPC, ready for `server.add(WorkflowServiceService, …)`. */
export function createWorkflowHandlers(engine: WorkflowEngine): WorkflowServiceServer {
  return {
    putDefinition: unary(async (req: PutDefinitionRequest) => {
      const name = requireText('name', req.name);
      if (req.definition === undefined) throw invalidField('definition', 'must be given (a JSON state machine document)');
      return toDefinitionMessage(await engine.putDefinition(name, req.definition));
    }),

    getDefinition: unary(async (req: GetDefinitionRequest) => {
      const name = requireText('name', req.name);
      return toDefinitionMessage(await engine.getDefinition(name, optionalVersion('version', req.version)));
    }),

    listDefinitions: unary(async (_req: ListDefinitionsRequest): Promise<ListDefinitionsResponse> => ({
      definitions: (await engine.listDefinitions()).map(toDefinitionMessage),
    })),

    startRun: unary(async (req: StartRunRequest) => {
      const definitionName = requireText('definition_name', req.definitionName);
      const definitionVersion = optionalVersion('definition_version', req.definitionVersion);
      const key = req.idempotencyKey.trim();
      if (key.length > MAX_KEY_LENGTH) throw invalidField('idempotency_key', `must be at most ${MAX_KEY_LENGTH} characters`);
      const view = await engine.startRun({
        definitionName,
        ...(definitionVersion !== undefined ? { definitionVersion } : {}),
        input: req.input ?? {},
        ...(key !== '' ? { idempotencyKey: key } : {}),
      });
      return toRunMessage(view);
    }),

    sendEvent: unary(async (req: SendEventRequest) => {
      const runId = requireRunId(req.runId);
      const type = requireText('type', req.type);
      // The payload's fields travel on the event next to its type (XState's event shape).
      return toRunMessage(await engine.sendEvent(runId, { ...(req.payload ?? {}), type }));
    }),

    getRun: unary(async (req: GetRunRequest) => toRunMessage(await engine.getRun(requireRunId(req.runId)))),

    listRuns: unary(async (req: ListRunsRequest): Promise<ListRunsResponse> => {
      if (!Number.isInteger(req.limit) || req.limit < 0 || req.limit > MAX_LIST_LIMIT) {
        throw invalidField('limit', `must be 0 (default ${DEFAULT_LIST_LIMIT}) to ${MAX_LIST_LIMIT}, got ${req.limit}`);
      }
      const status = req.status.trim();
      if (status !== '' && !(RUN_STATUSES as readonly string[]).includes(status)) {
        throw invalidField('status', `must be one of ${RUN_STATUSES.join(', ')} or empty, got "${status}"`);
      }
      const runs = await engine.listRuns({
        limit: req.limit === 0 ? DEFAULT_LIST_LIMIT : req.limit,
        ...(status !== '' ? { status: status as RunStatus } : {}),
      });
      return { runs: runs.map(toRunMessage) };
    }),

    watchRun: serverStream(async (req: WatchRunRequest, ctx, send: (run: Run) => void) => {
      const runId = requireRunId(req.runId);
      for await (const run of engine.watchRun(runId, ctx.signal)) send(toRunMessage(run));
    }),
  };
}
