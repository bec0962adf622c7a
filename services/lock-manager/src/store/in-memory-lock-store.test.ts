import { ManualClock } from '@maestro/runtime';
import { defineLockStoreContract } from '../../test/lock-store.contract.js';
import { InMemoryLockStore } from './in-memory-lock-store.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

defineLockStoreContract('InMemoryLockStore', () => {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const store = new InMemoryLockStore({ clock });
  return Promise.resolve({
    store,
    // Let pending attempts reach their sleep before time moves, and let woken ones run after.
    elapse: async (ms: number) => {
      await tick();
      clock.advance(ms);
      await tick();
    },
    close: () => Promise.resolve(),
  });
});
