/**
 * Conversions from the engine's records to the generated `maestro.v1` message types. JSON
 * values go through a Struct-safe copy: JSON drops `undefined` members, which a protobuf Struct
 * cannot hold.
 */
import type { DefinitionChange as DefinitionChangeMessage, DefinitionDiff, Run, RunHistory, Transition, WorkflowDefinition } from '@maestro/contracts';
import { isNoteEvent, type DefinitionChange } from '../../domain/index.js';
import type { DefinitionDiffView, HistoryPageView, RunView } from '../../engine.js';
import type { DefinitionRecord, RunRecord, TransitionRecord } from '../../store/run-store.js';

function toStruct(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/**
 * The wire form of a stored definition version; `created` only for what PutDefinition saved
 * (a `SavedDefinition`), false for every read.
 */
export function toDefinitionMessage(record: DefinitionRecord & { created?: boolean }): WorkflowDefinition {
  return {
    tenant: record.tenant,
    name: record.name,
    version: record.version,
    definition: toStruct(record.definition),
    createdAt: record.createdAt,
    created: record.created === true,
  };
}

/** The wire form of a history row. */
export function toTransitionMessage(t: TransitionRecord): Transition {
  return { seq: t.seq, fromState: t.fromState, toState: t.toState, eventType: t.eventType, event: toStruct(t.event), at: t.at, note: isNoteEvent(t.event) };
}

/** The wire form of a run (history empty when the record has none, as in ListRuns). */
export function toRunMessage(run: RunRecord | RunView): Run {
  return {
    tenant: run.tenant,
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

/** The wire form of a page of history. */
export function toRunHistoryMessage(page: HistoryPageView): RunHistory {
  return { runId: page.runId, transitions: page.transitions.map(toTransitionMessage), nextAfterSeq: page.nextAfterSeq };
}

function toChangeMessage(change: DefinitionChange): DefinitionChangeMessage {
  return {
    path: change.path,
    op: change.op,
    ...(change.op !== 'added' ? { before: change.before } : {}),
    ...(change.op !== 'removed' ? { after: change.after } : {}),
  };
}

/** The wire form of a definition diff. */
export function toDefinitionDiffMessage(diff: DefinitionDiffView): DefinitionDiff {
  return { name: diff.name, fromVersion: diff.fromVersion, toVersion: diff.toVersion, changes: diff.changes.map(toChangeMessage) };
}
