/**
 * The workflow definitions the engine runs in the benchmark: four working states one after the
 * other, then the final `done` (the engine needs a final state to finish a run, as LangGraph
 * needs END). Four transitions per run, one per LangGraph node.
 *
 * - `bench-activities`: each working state requests an activity (the built-in `intake`, `plan`,
 *   `code`, `review`, all on the orchestrator queue) and moves on at its `activity.done`, the
 *   way a real run advances.
 * - `bench-signals`: no activities; each working state moves on at a `NEXT` event sent with
 *   SendEvent.
 */

/** The four working states in order, each with the activity it requests in `bench-activities`. */
export const BENCH_STATES = [
  { state: 'first', activity: 'intake' },
  { state: 'second', activity: 'plan' },
  { state: 'third', activity: 'code' },
  { state: 'fourth', activity: 'review' },
] as const;

/** The event that advances `bench-signals`. */
export const NEXT_EVENT = 'NEXT';

/** Definition names, as PutDefinition stores them. */
export const BenchDefinitionNames = {
  activities: 'bench-activities',
  signals: 'bench-signals',
} as const;

function targetAfter(index: number): string {
  return BENCH_STATES[index + 1]?.state ?? 'done';
}

/** The definition whose states request activities answered over NATS. */
export function activitiesDefinition(): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  BENCH_STATES.forEach(({ state, activity }, i) => {
    states[state] = {
      meta: { activity },
      on: {
        'activity.done': { target: targetAfter(i) },
        'activity.failed': { target: 'failed', actions: ['storeError'] },
      },
    };
  });
  states['done'] = { type: 'final' };
  states['failed'] = { type: 'final' };
  return { id: BenchDefinitionNames.activities, initial: BENCH_STATES[0].state, context: {}, states };
}

/** The definition whose states are advanced by SendEvent. */
export function signalsDefinition(): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  BENCH_STATES.forEach(({ state }, i) => {
    states[state] = { on: { [NEXT_EVENT]: { target: targetAfter(i) } } };
  });
  states['done'] = { type: 'final' };
  return { id: BenchDefinitionNames.signals, initial: BENCH_STATES[0].state, context: {}, states };
}
