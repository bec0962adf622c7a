/**
 * CI configuration written by an agent is allowed but never silent: the observation says a
 * person must review it, and the step carries a flag (`ci-config-changed`) that the executor
 * publishes with it, so a viewer or a merge policy can hold the change.
 */
import { CI_REVIEW_NOTE, ciConfigPaths, StepFlags } from './protected-paths.js';
import type { ToolObservation } from './tool-registry.js';

/**
 * `observation` with the CI review note and flag added when the files it changed include CI
 * configuration; unchanged otherwise.
 */
export function flagCiConfigChanges(observation: ToolObservation): ToolObservation {
  const ci = ciConfigPaths(observation.effects?.filesChanged ?? []);
  if (ci.length === 0) return observation;
  return {
    ...observation,
    output: `${observation.output}\n[flagged: ${CI_REVIEW_NOTE} (${ci.join(', ')})]`,
    flags: [...new Set([...(observation.flags ?? []), StepFlags.ciConfigChanged])],
  };
}
