import { UserError } from '@maestro/runtime';
import { decodeStepCursor, encodeStepCursor, fromStepDetails, toAgentStepRecord, toStepDetails, validateAgentStepQuery } from './agent-step.js';

const event = {
  taskId: 't', runId: 'r', subtaskId: 's1', executorId: 'e1', step: 3, kind: 'tool' as const, tool: 'exec',
  summary: 'ran the tests', ok: true, at: '2030-01-02T03:04:05.678Z',
};

describe('toAgentStepRecord', () => {
  it('keeps what the executor reported, the time as a date', () => {
    expect(toAgentStepRecord(event)).toEqual({ ...event, at: new Date('2030-01-02T03:04:05.678Z'), attempt: null });
    const { tool: _tool, ...noTool } = event;
    expect(toAgentStepRecord({ ...noTool, kind: 'model' }).tool).toBeNull();
  });

  it('keeps the attempt the executor sent, null when it sent none', () => {
    expect(toAgentStepRecord({ ...event, attempt: 2 }).attempt).toBe(2);
    expect(toAgentStepRecord(event).attempt).toBeNull();
  });

  it('keeps milliseconds only, so a listed step turned into a cursor compares equal to the stored one', () => {
    expect(toAgentStepRecord({ ...event, at: '2030-01-02T03:04:05.678999Z' }).at.toISOString()).toBe('2030-01-02T03:04:05.678Z');
  });

  it('refuses a time that is not a date and a step or attempt too large to store', () => {
    expect(() => toAgentStepRecord({ ...event, at: 'soon' })).toThrow(UserError);
    expect(() => toAgentStepRecord({ ...event, step: 2 ** 31 })).toThrow(/step: /);
    expect(() => toAgentStepRecord({ ...event, attempt: 2 ** 31 })).toThrow(/attempt: /);
  });
});

describe('step details', () => {
  const recalled = [
    { id: 'm1', kind: 'reflex', score: 0.031, why: 'keyword rank 1; vector rank 2', content: 'tests need TZ=UTC' },
    { id: 'm2', kind: 'preference', score: 0, content: 'use pnpm' },
  ];
  const condensation = {
    trigger: 'budget' as const, tokensBefore: 41_000, tokensAfter: 12_500, counted: 'estimate' as const, summarisedMessages: 14,
    summarisedBy: 'rule' as const, dropped: ['fs.read src/a.ts (superseded by a later read)'], pinnedFacts: 6,
  };

  it('carries the memories of a recall step and the numbers of a condensation step from the event', () => {
    expect(toAgentStepRecord({ ...event, kind: 'recall', recalled }).recalled).toEqual(recalled);
    expect(toAgentStepRecord({ ...event, kind: 'condensation', condensation }).condensation).toEqual(condensation);
    expect(toAgentStepRecord(event)).not.toHaveProperty('recalled');
    expect(toAgentStepRecord(event)).not.toHaveProperty('condensation');
  });

  it('are stored as one document, null for a step without any, and read back as they were', () => {
    expect(toStepDetails({})).toBeNull();
    expect(toStepDetails({ recalled })).toEqual({ recalled });
    // An empty recall (memory had nothing) is still a recall that said so.
    expect(toStepDetails({ recalled: [] })).toEqual({ recalled: [] });
    expect(fromStepDetails(JSON.parse(JSON.stringify(toStepDetails({ condensation }))))).toEqual({ condensation });
    expect(fromStepDetails(null)).toEqual({});
  });
});

describe('step cursors', () => {
  it('round-trip the storage position', () => {
    expect(decodeStepCursor(encodeStepCursor({ seq: 12 }))).toEqual({ seq: 12 });
    expect(decodeStepCursor(encodeStepCursor({ seq: Number.MAX_SAFE_INTEGER }))).toEqual({ seq: Number.MAX_SAFE_INTEGER });
  });

  it.each([
    '',
    'garbage',
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('{"seq":0}').toString('base64url'),
    Buffer.from('{"seq":1.5}').toString('base64url'),
    Buffer.from('{"seq":"7"}').toString('base64url'),
    Buffer.from('{}').toString('base64url'),
  ])('refuse %j naming after', (text) => {
    expect(() => decodeStepCursor(text)).toThrow(expect.objectContaining({ field: 'after' }));
  });

  it('refuse a cursor of the old time-ordered listing, telling the client to start again without it', () => {
    const old = Buffer.from(JSON.stringify(['2030-01-02T03:04:05.678Z', 's1', 'exec-a', 3])).toString('base64url');
    expect(() => decodeStepCursor(old)).toThrow(expect.objectContaining({ field: 'after', message: expect.stringContaining('start again without after') }));
  });
});

describe('validateAgentStepQuery', () => {
  const base = { taskId: '', runId: '', subtaskId: '', limit: 0, after: '' };

  it('fills the default limit and keeps only what was given', () => {
    expect(validateAgentStepQuery({ ...base, runId: ' r1 ' })).toEqual({ runId: 'r1', limit: 200 });
    expect(validateAgentStepQuery({ ...base, taskId: 't', subtaskId: 's1', limit: 1000 })).toEqual({ taskId: 't', subtaskId: 's1', limit: 1000 });
  });

  it.each([
    [{}, 'task_id'],
    [{ taskId: 't', runId: 'r' }, 'run_id'],
    [{ taskId: 't', limit: 1001 }, 'limit'],
    [{ taskId: 't', limit: -5 }, 'limit'],
    [{ taskId: 't'.repeat(257) }, 'task_id'],
    [{ taskId: 't', after: '%%%' }, 'after'],
  ])('refuses %j naming %s', (overrides, field) => {
    expect(() => validateAgentStepQuery({ ...base, ...overrides })).toThrow(expect.objectContaining({ field, message: expect.stringMatching(new RegExp(`^${field}: `)) }));
  });
});
