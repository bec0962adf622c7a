import type { ChatModel, ChatModelReply } from '@maestro/agent';
import { OperationalError, UserError } from '@maestro/runtime';
import { TransientFailureWatch } from './transient-model-failure.js';

const reply: ChatModelReply = {
  message: { role: 'assistant', content: 'done' },
  usage: { inputTokens: 1, outputTokens: 1 },
  scripted: true,
  provider: 'scripted',
  model: 'scripted',
};

function modelFailing(errors: Array<Error | undefined>): ChatModel {
  return {
    complete: async () => {
      const err = errors.shift();
      if (err) throw err;
      return reply;
    },
  };
}

const request = { messages: [], tools: [] };

describe('TransientFailureWatch', () => {
  it('remembers that the last call failed transiently (router unreachable), rethrowing for the loop', async () => {
    const unavailable = new OperationalError('UNAVAILABLE', 'router unreachable');
    const watch = new TransientFailureWatch(modelFailing([unavailable]));
    await expect(watch.complete(request)).rejects.toBe(unavailable);
    expect(watch.transientFailure).toBe(unavailable);
  });

  it('forgets a transient failure once a later call succeeds', async () => {
    const watch = new TransientFailureWatch(modelFailing([new OperationalError('UNAVAILABLE', 'blip'), undefined]));
    await expect(watch.complete(request)).rejects.toThrow('blip');
    await expect(watch.complete(request)).resolves.toBe(reply);
    expect(watch.transientFailure).toBeUndefined();
  });

  it('does not count a permanent failure (bad request, script exhausted) as transient', async () => {
    const watch = new TransientFailureWatch(modelFailing([new UserError('SCRIPT_EXHAUSTED', 'no more turns')]));
    await expect(watch.complete(request)).rejects.toThrow('no more turns');
    expect(watch.transientFailure).toBeUndefined();
  });
});
