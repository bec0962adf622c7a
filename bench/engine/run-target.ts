/**
 * What every system under benchmark offers: drive one run of the same four steps to its end,
 * durably, and say how long each step took. The workflow-engine, LangGraph.js and the bare
 * XState floor each implement it.
 */

/** Steps per run, the same for every system: four working states (nodes), one after the other. */
export const STEPS_PER_RUN = 4;

/** One system under benchmark. */
export interface RunTarget {
  /** Row label in the table. */
  readonly name: string;
  /** How it is set up, printed under the table so a reader can repeat it. */
  readonly settings: string;
  /**
   * Drives one run from start to its final state; resolves with the latency of each of its
   * {@link STEPS_PER_RUN} steps in milliseconds (a step = one durable transition).
   */
  run(index: number): Promise<number[]>;
  /** Releases connections; never drops databases (the caller owns them). */
  close(): Promise<void>;
}
