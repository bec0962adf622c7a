/** A new run of the built-in `coding` definition at its start, for the PostgreSQL store tests. */
import { randomUUID } from 'node:crypto';
import { codingDefinition, defaultRegistries, parseDefinition, startRunMachine } from '../src/domain/index.js';
import type { NewRun } from '../src/store/run-store.js';

const definition = parseDefinition(codingDefinition, defaultRegistries);

/** A `coding` run pinned to `version`, in its initial state, with `overrides` on top. */
export function newCodingRun(version: number, overrides: Partial<NewRun> = {}): NewRun {
  const start = startRunMachine({ definition, registries: defaultRegistries }, { taskId: 't' });
  return {
    id: randomUUID(),
    definitionName: 'coding',
    definitionVersion: version,
    snapshot: start.snapshot,
    state: start.state,
    status: start.status,
    attempt: start.attempt,
    visits: start.visits,
    context: start.context,
    ...overrides,
  };
}
