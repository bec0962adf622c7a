import { ManualClock } from '@maestro/runtime';
import { InMemoryRunStore } from './in-memory-run-store.js';
import { defineRunStoreContract } from './run-store.contract.js';

defineRunStoreContract('in-memory', async () => ({
  store: new InMemoryRunStore({ clock: new ManualClock(Date.now()) }),
  close: async () => undefined,
}));

describe('InMemoryRunStore', () => {
  it('hands out copies, so a caller cannot change what is stored', async () => {
    const store = new InMemoryRunStore();
    const { definition } = await store.saveDefinition('d', { id: 'd' }, 'h1');
    definition.definition['id'] = 'changed';
    expect((await store.getDefinition('d'))?.definition).toEqual({ id: 'd' });
  });
});
