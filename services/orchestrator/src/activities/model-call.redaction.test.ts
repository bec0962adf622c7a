import type { CompleteRequest, CompleteResponse } from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';
import { askStrategicModel, type StrategicCall } from './model-call.js';

describe('askStrategicModel redaction', () => {
  // The process's registry reads the environment once, at first use: set the key before any call.
  const canary = `sk-canary-orion-${process.pid}-0123456789`;
  process.env.MAESTRO_CANARY_TEST_API_KEY = canary;
  afterAll(() => {
    delete process.env.MAESTRO_CANARY_TEST_API_KEY;
  });

  it('sends the strategic model no secret of the process, even when a prompt quotes one', async () => {
    const sent: CompleteRequest[] = [];
    const router = {
      complete: async (request: CompleteRequest): Promise<CompleteResponse> => {
        sent.push(request);
        return { message: { role: 'assistant', content: '{"ok":true}' }, finishReason: 'stop' } as unknown as CompleteResponse;
      },
    };
    const invocation = {
      request: { runId: 'run-1' },
      taskId: 'task-1',
      task: { budget: { usd: 1, tokens: 1000 } },
      deps: { router },
      logger: createSilentLogger(),
      signal: new AbortController().signal,
    } as unknown as StrategicCall;
    await askStrategicModel(invocation, 'plan', [
      { role: 'system', content: 'Plan the task.' },
      { role: 'user', content: `README.md says: export MAESTRO_CANARY_TEST_API_KEY=${canary}` },
    ]);
    expect(JSON.stringify(sent)).not.toContain(canary);
    expect(sent[0]?.messages[1]?.content).toBe('README.md says: export MAESTRO_CANARY_TEST_API_KEY=[REDACTED:MAESTRO_CANARY_TEST_API_KEY]');
  });
});
