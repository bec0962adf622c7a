import { UserError } from '@maestro/runtime';
import { containsPattern, decodeTaskListCursor, encodeTaskListCursor, TaskListLimits, validateTaskListQuery } from './task-list-query.js';

const cursor = { createdAt: '2026-03-01T10:00:00.123456Z', id: '0b6f7a52-4a35-4b8f-9d61-3f0a0c7e9d10' };

function fieldOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).field;
  }
  throw new Error('expected a refusal');
}

describe('validateTaskListQuery', () => {
  it('applies the default page size and leaves unset filters out', () => {
    expect(validateTaskListQuery({ limit: 0, status: ' ', goalContains: '  ', pageToken: '' })).toEqual({ limit: TaskListLimits.defaultLimit });
  });

  it('keeps the filters and reads the page token', () => {
    expect(validateTaskListQuery({ limit: 5, status: 'running', goalContains: ' fix login ', pageToken: encodeTaskListCursor(cursor) })).toEqual({
      limit: 5,
      status: 'running',
      goalContains: 'fix login',
      before: cursor,
    });
  });

  it('names the field it refuses', () => {
    expect(fieldOf(() => validateTaskListQuery({ limit: -1, status: '' }))).toBe('limit');
    expect(fieldOf(() => validateTaskListQuery({ limit: TaskListLimits.maxLimit + 1, status: '' }))).toBe('limit');
    expect(fieldOf(() => validateTaskListQuery({ limit: 1, status: 'sleeping' }))).toBe('status');
    expect(fieldOf(() => validateTaskListQuery({ limit: 1, status: '', goalContains: 'x'.repeat(TaskListLimits.goalContainsMaxChars + 1) }))).toBe('goal_contains');
    expect(fieldOf(() => validateTaskListQuery({ limit: 1, status: '', pageToken: 'not-a-token' }))).toBe('page_token');
  });
});

describe('task list cursor', () => {
  it('round-trips', () => {
    expect(decodeTaskListCursor(encodeTaskListCursor(cursor))).toEqual(cursor);
  });

  it('refuses tokens it did not issue', () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const token of ['%%%', forged([1, 2]), forged({ t: '2026-03-01', i: cursor.id }), forged({ t: cursor.createdAt, i: 'x' }), forged({ seq: 3 })]) {
      expect(fieldOf(() => decodeTaskListCursor(token))).toBe('page_token');
    }
  });
});

describe('containsPattern', () => {
  it('escapes LIKE wildcards and the escape character so they match themselves', () => {
    expect(containsPattern('100%_done\\')).toBe('%100\\%\\_done\\\\%');
    expect(containsPattern('plain')).toBe('%plain%');
  });
});
