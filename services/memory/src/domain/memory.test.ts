import { UserError } from '@maestro/runtime';
import { MemoryLimits, validateList, validateMemoryId, validateRecall, validateRemember } from './memory.js';

const remember = { project: 'acme/web', kind: 'preference', content: 'Use pnpm, never npm.', tags: ['tooling'] };

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
  it('accepts a memory, trimming the project and de-duplicating tags', () => {
    expect(validateRemember({ ...remember, project: ' acme/web ', tags: [' tooling', 'pnpm', 'tooling '] })).toEqual({
      project: 'acme/web',
      kind: 'preference',
      content: 'Use pnpm, never npm.',
      tags: ['tooling', 'pnpm'],
    });
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
  ])('rejects %j naming %s', (patch, field) => {
    expect(fieldOf(() => validateRemember({ ...remember, ...patch }))).toBe(field);
  });

  it('accepts the bounds: 20 000 characters and 20 tags', () => {
    const spec = validateRemember({ ...remember, content: 'x'.repeat(20_000), tags: Array.from({ length: 20 }, (_, i) => `t${i}`) });
    expect(spec.content).toHaveLength(20_000);
    expect(spec.tags).toHaveLength(20);
  });
});

describe('validateRecall', () => {
  it('defaults the limit to 5 and leaves kind unset when empty', () => {
    expect(validateRecall({ project: 'p', query: ' how to test ', limit: 0, kind: '' })).toEqual({
      project: 'p',
      query: 'how to test',
      limit: 5,
      kind: undefined,
    });
  });

  it('keeps a kind filter and an explicit limit up to 50', () => {
    expect(validateRecall({ project: 'p', query: '', limit: 50, kind: 'reflex' })).toMatchObject({ limit: 50, kind: 'reflex' });
  });

  it.each([
    [{ project: '' }, 'project'],
    [{ limit: 51 }, 'limit'],
    [{ limit: -1 }, 'limit'],
    [{ kind: 'everything' }, 'kind'],
    [{ query: 'q'.repeat(2_001) }, 'query'],
  ])('rejects %j naming %s', (patch, field) => {
    expect(fieldOf(() => validateRecall({ project: 'p', query: 'x', limit: 0, kind: '', ...patch }))).toBe(field);
  });
});

describe('validateList', () => {
  it('defaults the limit to 50 and allows up to 200', () => {
    expect(validateList({ project: 'p', kind: '', limit: 0 })).toEqual({ project: 'p', kind: undefined, limit: 50 });
    expect(validateList({ project: 'p', kind: 'project', limit: 200 }).limit).toBe(200);
    expect(fieldOf(() => validateList({ project: 'p', kind: '', limit: 201 }))).toBe('limit');
    expect(fieldOf(() => validateList({ project: '', kind: '', limit: 0 }))).toBe('project');
  });
});

describe('validateMemoryId', () => {
  it('accepts a UUID (any case) and rejects anything else naming id', () => {
    expect(validateMemoryId('0B8E5C0E-1A8F-4C4B-9D7A-3E2F1C0B9A8D')).toBe('0b8e5c0e-1a8f-4c4b-9d7a-3e2f1c0b9a8d');
    expect(fieldOf(() => validateMemoryId(''))).toBe('id');
    expect(fieldOf(() => validateMemoryId('42'))).toBe('id');
  });
});
