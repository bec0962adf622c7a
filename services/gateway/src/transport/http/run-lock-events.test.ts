import type { Task } from '@maestro/contracts';
import { createSilentLogger, OperationalError } from '@maestro/runtime';
import type { BusEvent, OrchestratorApi } from '../../ports.js';
import { RunLockEventFilter, subtaskIdOfLockOwner } from './run-lock-events.js';

/** Lets pending task reads finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const acquired = (owner: string): BusEvent => ({ subject: 'maestro.events.lock.acquired', payload: { owner, concerns: ['file:/repo/a.ts'] } });

/** A task whose subtask ids are read from `ids` at each call; `gate` holds each answer until released. */
function taskSource(ids: { current: string[] }, options: { fail?: boolean; gated?: boolean } = {}) {
  const calls: string[] = [];
  const gates: Array<() => void> = [];
  const tasks: Pick<OrchestratorApi, 'getTask'> = {
    getTask: async ({ taskId }) => {
      calls.push(taskId);
      const subtasks = ids.current.map((id) => ({ id }));
      if (options.gated) await new Promise<void>((resolve) => gates.push(resolve));
      if (options.fail) throw new OperationalError('UNAVAILABLE', 'orchestrator is unavailable');
      return { id: taskId, subtasks } as unknown as Task;
    },
  };
  return { tasks, calls, release: () => gates.splice(0).forEach((open) => open()) };
}

function filterOf(tasks: Pick<OrchestratorApi, 'getTask'>, maxTaskReads?: number) {
  const sent: string[] = [];
  const filter = new RunLockEventFilter({
    taskId: 't1',
    tasks,
    emit: (e) => sent.push(String(e.payload.owner)),
    logger: createSilentLogger(),
    ...(maxTaskReads !== undefined ? { maxTaskReads } : {}),
  });
  return { filter, sent };
}

describe('subtaskIdOfLockOwner', () => {
  it("reads the subtask of an executor's lease owner, and nothing of other owners", () => {
    expect(subtaskIdOfLockOwner('executor:e1:s1')).toBe('s1');
    expect(subtaskIdOfLockOwner('executor:e1:a:b')).toBe('a:b');
    expect(subtaskIdOfLockOwner('cli:alice')).toBeUndefined();
    expect(subtaskIdOfLockOwner('executor:e1')).toBeUndefined();
    expect(subtaskIdOfLockOwner(42)).toBeUndefined();
  });
});

describe('RunLockEventFilter', () => {
  it("passes on its subtasks' events, in order, holding those that arrive while the task is read", async () => {
    const source = taskSource({ current: ['s1', 's2'] }, { gated: true });
    const { filter, sent } = filterOf(source.tasks);
    filter.offer(acquired('executor:e1:s2'));
    filter.offer(acquired('executor:e1:other'));
    filter.offer(acquired('executor:e1:s1'));
    expect(sent).toEqual([]);
    source.release();
    await settle();
    // `other` was seen during the first read, so it was asked about once more.
    source.release();
    await settle();
    expect(sent).toEqual(['executor:e1:s2', 'executor:e1:s1']);
    expect(source.calls).toHaveLength(2);
    expect(filter.idle).toBe(true);
  });

  it('reads the task again for a subtask a re-plan added, and only once for another task’s subtask', async () => {
    const ids = { current: ['s1'] };
    const source = taskSource(ids);
    const { filter, sent } = filterOf(source.tasks);
    await settle();
    ids.current = ['s1', 's1b'];
    filter.offer(acquired('executor:e1:s1b'));
    filter.offer(acquired('executor:e2:x1'));
    await settle();
    filter.offer(acquired('executor:e2:x1'));
    filter.offer(acquired('executor:e1:s1b'));
    await settle();
    expect(sent).toEqual(['executor:e1:s1b', 'executor:e1:s1b']);
    expect(filter.taskReads).toBe(3);
  });

  it('stops reading after maxTaskReads, dropping events of unknown subtasks', async () => {
    const source = taskSource({ current: ['s1'] });
    const { filter, sent } = filterOf(source.tasks, 2);
    await settle();
    for (const id of ['a', 'b', 'c', 'd']) {
      filter.offer(acquired(`executor:e:${id}`));
      await settle();
    }
    filter.offer(acquired('executor:e:s1'));
    expect(source.calls).toHaveLength(2);
    expect(sent).toEqual(['executor:e:s1']);
  });

  it('decides with what it knows when the task cannot be read, and tries again for the next unknown subtask', async () => {
    const source = taskSource({ current: ['s1'] }, { fail: true });
    const { filter, sent } = filterOf(source.tasks);
    await settle();
    filter.offer(acquired('executor:e:s1'));
    await settle();
    expect(sent).toEqual([]);
    expect(source.calls).toHaveLength(2);
    expect(filter.idle).toBe(true);
  });

  it('passes nothing on once closed, even when a read returns afterwards', async () => {
    const source = taskSource({ current: ['s1'] }, { gated: true });
    const { filter, sent } = filterOf(source.tasks);
    filter.offer(acquired('executor:e:s1'));
    filter.close();
    source.release();
    await settle();
    filter.offer(acquired('executor:e:s1'));
    expect(sent).toEqual([]);
  });
});
