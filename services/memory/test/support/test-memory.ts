/**
 * A domain memory with every field filled, for unit tests of the pure rules.
 */
import type { Memory } from '../../src/domain/memory.js';

/** A person's active project memory; `patch` overrides any field. */
export function testMemory(id: string, patch: Partial<Memory> = {}): Memory {
  const at = new Date('2030-01-01T00:00:00.000Z');
  return {
    id,
    tenant: 'default',
    project: 'acme/web',
    kind: 'project',
    content: `memory ${id}`,
    tags: [],
    scope: 'project',
    pinned: false,
    status: 'active',
    supersededBy: undefined,
    confidence: 1,
    expiresAt: undefined,
    createdAt: at,
    updatedAt: at,
    provenance: undefined,
    topic: '',
    confirmations: 0,
    author: 'person',
    confirmedAt: undefined,
    ...patch,
  };
}
