/**
 * The workflow-engine as the gateway sees it (WorkflowApi), in process: versioned definitions
 * (a new version only when the document changed, `created` saying which), checked by the
 * engine's own pure validator (`parseDefinition` over the default registries, from the
 * workflow-engine's domain, which does no I/O), so a faulty document is refused with exactly
 * the engine's error; runs started by the test that move on the events their state accepts,
 * paged lists and histories, cancelling, and diffs computed from the stored documents.
 */
import { randomUUID } from 'node:crypto';
import {
  Run,
  type CancelRunRequest,
  type DefinitionChange,
  type DefinitionDiff,
  type DiffDefinitionsRequest,
  type GetDefinitionRequest,
  type GetRunHistoryRequest,
  type GetRunRequest,
  type ListDefinitionsRequest,
  type ListDefinitionsResponse,
  type ListRunsRequest,
  type ListRunsResponse,
  type PutDefinitionRequest,
  type RunHistory,
  type SendEventRequest,
  type Transition,
  type WorkflowDefinition,
} from '@maestro/contracts';
import { invalidField, notFound, type Clock } from '@maestro/runtime';
// A test double may borrow the engine's pure domain (services never import each other in src/).
import { NAME_PATTERN, canonicalJson, defaultRegistries, parseDefinition } from '../../../workflow-engine/src/domain/index.js';
import type { WorkflowApi } from '../../src/ports.js';
import { visibleTo } from './fake-orchestrator.js';
import { pageOf } from './paging.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface StateNode {
  type?: string;
  on?: Record<string, string | { target: string }>;
}
interface Document {
  initial: string;
  states: Record<string, StateNode>;
}

function targetOf(transition: string | { target: string }): string {
  return typeof transition === 'string' ? transition : transition.target;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function diff(before: Json | undefined, after: Json | undefined, path: string, out: DefinitionChange[]): void {
  const isObject = (v: Json | undefined): v is { [key: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) diff(before[key], after[key], `${path}/${escapePointer(key)}`, out);
    return;
  }
  if (before === undefined && after !== undefined) out.push({ path, op: 'added', after });
  else if (after === undefined && before !== undefined) out.push({ path, op: 'removed', before });
  else if (canonicalJson(before) !== canonicalJson(after)) out.push({ path, op: 'changed', before, after });
}

/** An in-process workflow-engine for gateway tests. */
export class FakeWorkflow implements WorkflowApi {
  private readonly definitions = new Map<string, WorkflowDefinition[]>();
  readonly runs: Run[] = [];

  constructor(private readonly clock: Clock) {}

  private now(): Date {
    return new Date(this.clock.now());
  }

  async putDefinition(request: PutDefinitionRequest): Promise<WorkflowDefinition> {
    if (!NAME_PATTERN.test(request.name)) throw invalidField('name', 'must start with a letter or "_" and hold only letters, digits, "_" and "-"');
    if (request.definition === undefined) throw invalidField('definition', 'must be given (a JSON state machine document)');
    // The engine's own check and error (INVALID_DEFINITION on `definition`, one `definition.<path>: …` per problem).
    const document = parseDefinition(request.definition, defaultRegistries, 'definition') as Record<string, unknown>;
    const versions = this.definitions.get(request.name) ?? [];
    const latest = versions[versions.length - 1];
    if (latest && canonicalJson(latest.definition) === canonicalJson(document)) return { ...latest, created: false };
    const stored: WorkflowDefinition = { name: request.name, tenant: request.tenant, version: versions.length + 1, definition: document, createdAt: this.now(), created: false };
    this.definitions.set(request.name, [...versions, stored]);
    return { ...stored, created: true };
  }

  async getDefinition(request: GetDefinitionRequest): Promise<WorkflowDefinition> {
    const versions = this.definitions.get(request.name) ?? [];
    const found = request.version === 0 ? versions[versions.length - 1] : versions.find((v) => v.version === request.version);
    if (!found) throw notFound('definition', request.version ? `${request.name} version ${request.version}` : request.name, 'DEFINITION_NOT_FOUND');
    return found;
  }

  async listDefinitions(request: ListDefinitionsRequest): Promise<ListDefinitionsResponse> {
    if (request.name !== '') return { definitions: [...(this.definitions.get(request.name) ?? [])].reverse() };
    return { definitions: [...this.definitions.values()].map((versions) => versions[versions.length - 1]!) };
  }

  async diffDefinitions(request: DiffDefinitionsRequest): Promise<DefinitionDiff> {
    const from = await this.getDefinition({ tenant: request.tenant, name: request.name, version: request.fromVersion });
    const to = await this.getDefinition({ tenant: request.tenant, name: request.name, version: request.toVersion });
    const changes: DefinitionChange[] = [];
    diff(from.definition as Json, to.definition as Json, '', changes);
    return { name: request.name, fromVersion: from.version, toVersion: to.version, changes: changes.sort((a, b) => (a.path < b.path ? -1 : 1)) };
  }

  /** Starts a run of the latest (or given) version, in its initial state, as StartRun does. */
  async startRun(definitionName: string, input: Record<string, unknown> = {}, version = 0, tenant = 'default'): Promise<Run> {
    const definition = await this.getDefinition({ tenant: '', name: definitionName, version });
    const document = definition.definition as Document;
    const now = this.now();
    const run = Run.fromPartial({
      id: randomUUID(),
      tenant,
      definitionName,
      definitionVersion: definition.version,
      status: 'running',
      state: document.initial,
      attempt: 1,
      context: { input },
      history: [{ seq: 1, fromState: '', toState: document.initial, eventType: 'xstate.init', event: {}, at: now, note: false }],
      createdAt: now,
      updatedAt: now,
    });
    this.runs.unshift(run);
    return run;
  }

  async getRun(request: GetRunRequest): Promise<Run> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(request.runId)) {
      throw invalidField('run_id', `must be a UUID (got "${request.runId}")`);
    }
    const run = this.runs.find((r) => r.id === request.runId && visibleTo(request.tenant, r.tenant));
    if (!run) throw notFound('run', request.runId, 'RUN_NOT_FOUND');
    return run;
  }

  async listRuns(request: ListRunsRequest): Promise<ListRunsResponse> {
    const matching = this.runs.filter(
      (r) =>
        visibleTo(request.tenant, r.tenant) &&
        (request.status === '' || r.status === request.status) &&
        (request.definitionName === '' || r.definitionName === request.definitionName) &&
        (request.definitionVersion === 0 || r.definitionVersion === request.definitionVersion),
    );
    const { page, next } = pageOf(matching, request.limit || 50, request.pageToken);
    return { runs: page.map((r) => ({ ...r, history: [] })), nextPageToken: next };
  }

  async getRunHistory(request: GetRunHistoryRequest): Promise<RunHistory> {
    const run = await this.getRun({ tenant: request.tenant, runId: request.runId });
    const limit = request.limit || 500;
    const after = run.history.filter((t) => t.seq > request.afterSeq);
    const page = after.slice(0, limit);
    return { runId: run.id, transitions: page, nextAfterSeq: after.length > limit ? page[page.length - 1]!.seq : 0 };
  }

  private transition(run: Run, toState: string, eventType: string, event: Record<string, unknown>): void {
    const now = this.now();
    const entry: Transition = { seq: run.history.length + 1, fromState: run.state, toState, eventType, event, at: now, note: false };
    run.history.push(entry);
    run.state = toState;
    run.updatedAt = now;
  }

  async sendEvent(request: SendEventRequest): Promise<Run> {
    if (request.type.startsWith('xstate.') || request.type.startsWith('activity.')) {
      throw invalidField('type', `event types starting with "xstate." or "activity." are reserved (got "${request.type}")`);
    }
    const run = await this.getRun({ tenant: request.tenant, runId: request.runId });
    // Like the engine: an event the state does not handle, or one sent to an ended run, changes
    // nothing and the run is returned as it is.
    if (run.status !== 'running') return run;
    const document = (await this.getDefinition({ tenant: request.tenant, name: run.definitionName, version: run.definitionVersion })).definition as Document;
    const transition = document.states[run.state]?.on?.[request.type];
    if (transition === undefined) return run;
    const target = targetOf(transition);
    this.transition(run, target, request.type, { ...(request.payload ?? {}), type: request.type });
    if (document.states[target]?.type === 'final') run.status = 'done';
    return run;
  }

  async cancelRun(request: CancelRunRequest): Promise<Run> {
    const run = await this.getRun({ tenant: request.tenant, runId: request.runId });
    if (run.status !== 'running') return run;
    this.transition(run, run.state, 'CANCEL', { type: 'CANCEL', reason: request.reason });
    run.status = 'cancelled';
    return run;
  }
}
