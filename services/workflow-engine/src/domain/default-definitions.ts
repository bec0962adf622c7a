/**
 * The definitions the engine ships with and upserts at start (a new version only when the
 * content changed), so a fresh cluster can run tasks without anyone calling PutDefinition.
 */
import coding from './definitions/coding.json' with { type: 'json' };
import explain from './definitions/explain.json' with { type: 'json' };

/** The default `coding` workflow: intake → preflight → plan → code → review → done (+ failed, cancelled). */
export const codingDefinition: Readonly<Record<string, unknown>> = coding;

/** The read-only `explain` workflow: intake → answer → done (+ failed, cancelled); nothing is changed. */
export const explainDefinition: Readonly<Record<string, unknown>> = explain;

/** Every built-in definition by name. */
export const defaultDefinitions: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  coding: codingDefinition,
  explain: explainDefinition,
};
