import { randomUUID } from 'node:crypto';
import { defineTaskTraceStoreContract } from '../../test/task-trace-store.contract.js';
import { InMemoryTaskTraceStore } from './in-memory-task-trace-store.js';

defineTaskTraceStoreContract('in-memory', async () => ({
  store: new InMemoryTaskTraceStore(),
  addTask: async () => randomUUID(),
}));
