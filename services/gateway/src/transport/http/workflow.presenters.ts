/**
 * The public JSON shapes of the workflow-engine's runs (as listed, without history), run
 * history pages, definitions and definition diffs.
 */
import type { DefinitionDiff, Run, RunHistory, WorkflowDefinition } from '@maestro/contracts';
import { toRunJson, toTransitionJson, type RunJson, type TransitionJson } from './presenters.js';

/** A run in a list: everything but its history (`/v1/runs/:id/history` pages it). */
export type RunSummaryJson = Omit<RunJson, 'history'>;

/** Converts a run of ListRuns into the public JSON. */
export function toRunSummaryJson(run: Run): RunSummaryJson {
  const { history: _history, ...summary } = toRunJson(run);
  return summary;
}

/** One page of a run's transitions. */
export interface RunHistoryJson {
  runId: string;
  transitions: TransitionJson[];
  /** The `afterSeq` of the next page; 0 on the last page. */
  nextAfterSeq: number;
}

/** Converts GetRunHistory's answer into the public JSON. */
export function toRunHistoryJson(history: RunHistory): RunHistoryJson {
  return { runId: history.runId, transitions: history.transitions.map(toTransitionJson), nextAfterSeq: history.nextAfterSeq };
}

/** One stored version of a workflow definition. */
export interface DefinitionJson {
  name: string;
  /** The tenant that stored it; empty for the shared built-in definitions every tenant can run. */
  tenant: string;
  version: number;
  createdAt: string | null;
  /** The definition document (see the workflow-engine README). */
  definition: Record<string, unknown>;
}

/** Converts a WorkflowDefinition message into the public JSON. */
export function toDefinitionJson(definition: WorkflowDefinition): DefinitionJson {
  return {
    name: definition.name,
    tenant: definition.tenant,
    version: definition.version,
    createdAt: definition.createdAt ? definition.createdAt.toISOString() : null,
    definition: definition.definition ?? {},
  };
}

/** One difference between two versions; `before`/`after` absent when added/removed. */
export interface DefinitionChangeJson {
  /** RFC 6901 JSON pointer into the document. */
  path: string;
  op: string;
  before?: unknown;
  after?: unknown;
}

/** What changed between two versions of a definition. */
export interface DefinitionDiffJson {
  name: string;
  fromVersion: number;
  toVersion: number;
  changes: DefinitionChangeJson[];
}

/** Converts DiffDefinitions' answer into the public JSON. */
export function toDefinitionDiffJson(diff: DefinitionDiff): DefinitionDiffJson {
  return {
    name: diff.name,
    fromVersion: diff.fromVersion,
    toVersion: diff.toVersion,
    changes: diff.changes.map((c) => ({
      path: c.path,
      op: c.op,
      ...(c.before !== undefined ? { before: c.before as unknown } : {}),
      ...(c.after !== undefined ? { after: c.after as unknown } : {}),
    })),
  };
}
