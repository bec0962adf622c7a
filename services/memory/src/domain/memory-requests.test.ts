import { UserError } from '@maestro/runtime';
import { MemoryLimits } from './memory.js';
import { isEmptyUpdate, validateList, validateMemoryId, validateRecall, validateRemember, validateUpdate } from './memory-requests.js';

const now = new Date('2030-01-01T00:00:00.000Z');
const remember = { project: 'acme/web', kind: 'preference', content: 'Use pnpm, never npm.', tags: ['tooling'] };
const id = '0b8e5c0e-1a8f-4c4b-9d7a-3e2f1c0b9a8d';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('INVALID_ARGUMENT');
    expect((err as UserError).message.startsWith(`${(err as UserError).field}: `)).toBe(true);
    return (err as UserError).field;
  }
  throw new Error('expected a UserError');
}

describe('validateRemember', () => {
  it('accepts a memory, trimming the project, de-duplicating tags, scope project by default', () => {
    expect(validateRemember({ ...remember, project: ' acme/web ', tags: [' tooling', 'pnpm', 'tooling '] }, now)).toEqual({
      tenant: 'default',
      project: 'acme/web',
      kind: 'preference',
      content: 'Use pnpm, never npm.',
      tags: ['tooling', 'pnpm'],
      scope: 'project',
      pinned: false,
      expiresAt: undefined,
    });
  });

  it('keeps a user or team scope, a pin and a future expiry', () => {
    const expiresAt = new Date(now.getTime() + 1);
    expect(validateRemember({ ...remember, scope: 'user:alice', pinned: true, expiresAt }, now)).toMatchObject({ scope: 'user:alice', pinned: true, expiresAt });
    expect(validateRemember({ ...remember, scope: 'team:core-42' }, now).scope).toBe('team:core-42');
  });

  it.each([
    [{ project: '' }, 'project'],
    [{ project: 'p'.repeat(MemoryLimits.maxProjectLength + 1) }, 'project'],
    [{ kind: '' }, 'kind'],
    [{ kind: 'note' }, 'kind'],
    [{ content: '' }, 'content'],
    [{ content: '   \n' }, 'content'],
    [{ content: 'x'.repeat(20_001) }, 'content'],
    [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
    [{ tags: ['ok', ' '] }, 'tags[1]'],
    [{ tags: ['x'.repeat(65)] }, 'tags[0]'],
    [{ scope: 'org:acme' }, 'scope'],
    [{ scope: 'user:' }, 'scope'],
    [{ scope: 'user:a b' }, 'scope'],
    [{ scope: 'team:a,b' }, 'scope'],
    [{ scope: `user:${'x'.repeat(129)}` }, 'scope'],
    [{ expiresAt: now }, 'expires_at'],
    [{ expiresAt: new Date(Number.NaN) }, 'expires_at'],
  ])('rejects %j naming %s', (patch, field) => {
    expect(fieldOf(() => validateRemember({ ...remember, ...patch }, now))).toBe(field);
  });

  it('accepts the bounds: 20 000 characters and 20 tags', () => {
    const spec = validateRemember({ ...remember, content: 'x'.repeat(20_000), tags: Array.from({ length: 20 }, (_, i) => `t${i}`) }, now);
    expect(spec.content).toHaveLength(20_000);
    expect(spec.tags).toHaveLength(20);
  });
});

describe('validateRecall', () => {
  it('defaults the limit to 5, leaves kind unset when empty and always includes the project scope', () => {
    expect(validateRecall({ project: 'p', query: ' how to test ', limit: 0, kind: '' })).toEqual({
      project: 'p',
      query: 'how to test',
      limit: 5,
      kind: undefined,
      scopes: ['project'],
    });
  });

  it('keeps a kind filter, a limit up to 50 and the scopes asked for, once each', () => {
    expect(validateRecall({ project: 'p', query: 'x', limit: 50, kind: 'reflex', scopes: ['user:alice', 'project', 'user:alice', 'team:core'] })).toMatchObject({
      limit: 50,
      kind: 'reflex',
      scopes: ['project', 'user:alice', 'team:core'],
    });
  });

  it.each([
    [{ project: '' }, 'project'],
    [{ limit: 51 }, 'limit'],
    [{ limit: -1 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ kind: 'everything' }, 'kind'],
    [{ query: '' }, 'query'],
    [{ query: ' \t\n' }, 'query'],
    [{ query: 'q'.repeat(2_001) }, 'query'],
    [{ query: 'q'.repeat(1_048_576) }, 'query'],
    [{ scopes: ['org:x'] }, 'scopes[0]'],
    [{ scopes: ['project', ''] }, 'scopes[1]'],
    [{ scopes: Array.from({ length: 21 }, (_, i) => `user:u${i}`) }, 'scopes'],
  ])('rejects %j naming %s', (patch, field) => {
    expect(fieldOf(() => validateRecall({ project: 'p', query: 'x', limit: 0, kind: '', ...patch }))).toBe(field);
  });

  it('says how long the query was, and what to do with an empty one', () => {
    expect(() => validateRecall({ project: 'p', query: 'q'.repeat(2_001), limit: 0, kind: '' })).toThrow('query: must be at most 2000 characters, got 2001');
    expect(() => validateRecall({ project: 'p', query: '', limit: 0, kind: '' })).toThrow(/List returns a project's memories without a query/);
  });
});

describe('validateList', () => {
  it('defaults the limit to 50, allows up to 200, active only unless asked', () => {
    expect(validateList({ project: 'p', kind: '', limit: 0 })).toEqual({ project: 'p', kind: undefined, limit: 50, includeInactive: false, scope: undefined });
    expect(validateList({ project: 'p', kind: 'project', limit: 200, includeInactive: true, scope: 'user:bob' })).toMatchObject({
      limit: 200,
      includeInactive: true,
      scope: 'user:bob',
    });
    expect(fieldOf(() => validateList({ project: 'p', kind: '', limit: 201 }))).toBe('limit');
    expect(fieldOf(() => validateList({ project: '', kind: '', limit: 0 }))).toBe('project');
    expect(fieldOf(() => validateList({ project: 'p', kind: '', limit: 0, scope: 'bob' }))).toBe('scope');
  });
});

describe('validateUpdate', () => {
  const base = { id, tags: [], setTags: false, clearExpiry: false };

  it('keeps only the fields that are set', () => {
    expect(validateUpdate(base, now)).toEqual({ id });
    expect(isEmptyUpdate(validateUpdate(base, now))).toBe(true);
    const expiresAt = new Date(now.getTime() + 60_000);
    expect(validateUpdate({ ...base, content: 'new', pinned: false, status: 'retired', tags: [' a ', 'a'], setTags: true, expiresAt }, now)).toEqual({
      id,
      content: 'new',
      pinned: false,
      status: 'retired',
      tags: ['a'],
      expiresAt,
    });
    expect(validateUpdate({ ...base, setTags: true }, now)).toEqual({ id, tags: [] });
    expect(validateUpdate({ ...base, clearExpiry: true }, now)).toEqual({ id, expiresAt: null });
    expect(validateUpdate({ ...base, status: 'active' }, now)).toEqual({ id, status: 'active' });
  });

  it.each([
    [{ id: 'nope' }, 'id'],
    [{ status: 'superseded' }, 'status'],
    [{ status: 'deleted' }, 'status'],
    [{ content: '' }, 'content'],
    [{ content: 'x'.repeat(20_001) }, 'content'],
    [{ tags: ['a'] }, 'tags'],
    [{ tags: [''], setTags: true }, 'tags[0]'],
    [{ expiresAt: new Date(now.getTime() - 1) }, 'expires_at'],
    [{ expiresAt: new Date(now.getTime() + 1), clearExpiry: true }, 'expires_at'],
  ])('rejects %j naming %s', (patch, field) => {
    expect(fieldOf(() => validateUpdate({ ...base, ...patch }, now))).toBe(field);
  });
});

describe('validateMemoryId', () => {
  it('accepts a UUID (any case) and rejects anything else naming id', () => {
    expect(validateMemoryId('0B8E5C0E-1A8F-4C4B-9D7A-3E2F1C0B9A8D')).toBe(id);
    expect(fieldOf(() => validateMemoryId(''))).toBe('id');
    expect(fieldOf(() => validateMemoryId('42'))).toBe('id');
  });
});
