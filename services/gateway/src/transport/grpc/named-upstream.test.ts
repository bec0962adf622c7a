import { OperationalError, invalidField } from '@maestro/runtime';
import { namedUpstream } from './named-upstream.js';

describe('namedUpstream', () => {
  it('says which upstream failed transiently and keeps the code', async () => {
    const client = namedUpstream('orchestrator', {
      getTask: async (_req: unknown): Promise<string> => {
        throw new OperationalError('UPSTREAM_UNAVAILABLE', 'getTask: connection refused');
      },
    });
    await expect(client.getTask({})).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      message: 'orchestrator is unavailable (getTask: connection refused)',
    });
  });

  it('passes results and user errors through unchanged', async () => {
    const bad = invalidField('repo_path', 'no such directory');
    const client = namedUpstream('orchestrator', {
      ok: async (): Promise<string> => 'task',
      bad: async (): Promise<string> => {
        throw bad;
      },
    });
    await expect(client.ok()).resolves.toBe('task');
    await expect(client.bad()).rejects.toBe(bad);
  });
});
