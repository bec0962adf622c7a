import { codingDefinition } from './default-definitions.js';
import { defaultRegistries } from './registries.js';
import { startRunMachine, type RunnableDefinition } from './run-machine.js';
import { pendingActivityOf, toRunEvent, type RunFacts } from './run-messages.js';
import { parseDefinition } from './validate-definition.js';

const coding: RunnableDefinition = { definition: parseDefinition(codingDefinition, defaultRegistries), registries: defaultRegistries };
const AT = new Date(Date.UTC(2030, 0, 1));

function run(overrides: Partial<RunFacts> = {}): RunFacts {
  const step = startRunMachine(coding, { taskId: 't1' });
  return { id: 'r1', tenant: 'acme', definitionName: 'coding', status: step.status, state: step.state, attempt: step.attempt, context: step.context, ...overrides };
}

describe('run messages', () => {
  it('requests the current state\'s activity with a work id per attempt', () => {
    const pending = pendingActivityOf(run({ attempt: 2 }), coding, AT);
    expect(pending).toEqual({
      activity: 'intake',
      request: { workId: 'r1:intake:2', runId: 'r1', state: 'intake', activity: 'intake', attempt: 2, context: { input: { taskId: 't1' }, outputs: {} }, requestedAt: AT.toISOString() },
      requested: { runId: 'r1', state: 'intake', activity: 'intake', attempt: 2, at: AT.toISOString() },
    });
    expect(pendingActivityOf(run({ status: 'done', state: 'done' }), coding, AT)).toBeUndefined();
  });

  it('puts the tenant of the run on its events, and the error of a finished run, not while it runs', () => {
    const error = { code: 'ACTIVITY_TIMEOUT', message: 'late', state: 'intake' };
    const failed = run({ status: 'failed', state: 'failed', context: { input: { taskId: 't1' }, outputs: {}, error } });
    expect(toRunEvent(failed, AT, { seq: 1 })).toEqual({
      runId: 'r1', tenant: 'acme', definitionName: 'coding', status: 'failed', state: 'failed', input: { taskId: 't1' }, at: AT.toISOString(), seq: 1,
      error: { code: 'ACTIVITY_TIMEOUT', message: 'late' },
    });
    expect(toRunEvent({ ...failed, status: 'running' }, AT).error).toBeUndefined();
  });
});
