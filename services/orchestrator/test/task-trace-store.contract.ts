/**
 * The contract every {@link TaskTraceStore} adapter keeps (`defineTaskTraceStoreContract`), run
 * by each adapter's tests, so the in-memory store used by default behaves as the durable one.
 */
import type { TaskTraceStore } from '../src/store/task-trace-store.js';

/** What a contract run needs: a fresh store, and a way to make a task it knows. */
export interface TaskTraceStoreFixture {
  store: TaskTraceStore;
  /** Creates a task and returns its id. */
  addTask(): Promise<string>;
}

const first = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
const second = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'k=v' };

/** Registers the contract's tests for one adapter. */
export function defineTaskTraceStoreContract(name: string, create: () => Promise<TaskTraceStoreFixture>): void {
  describe(`TaskTraceStore contract: ${name}`, () => {
    let fixture: TaskTraceStoreFixture;
    beforeEach(async () => {
      fixture = await create();
    });

    it('has no trace context for a task until one is kept', async () => {
      const taskId = await fixture.addTask();
      expect(await fixture.store.recall(taskId)).toBeNull();
    });

    it('keeps the first trace context of a task and returns it ever after', async () => {
      const taskId = await fixture.addTask();
      expect(await fixture.store.remember(taskId, first)).toEqual(first);
      expect(await fixture.store.remember(taskId, second)).toEqual(first);
      expect(await fixture.store.recall(taskId)).toEqual(first);
    });

    it('keeps every field of the context, per task', async () => {
      const one = await fixture.addTask();
      const other = await fixture.addTask();
      await fixture.store.remember(one, first);
      await fixture.store.remember(other, second);
      expect(await fixture.store.recall(other)).toEqual(second);
      expect(await fixture.store.recall(one)).toEqual(first);
    });
  });
}
