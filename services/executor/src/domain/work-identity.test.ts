import { extractWorkIdentity } from './work-identity.js';

const ids = { workId: 's1:1', taskId: 't1', runId: 'r1', subtaskId: 's1', attempt: 1 };

describe('extractWorkIdentity', () => {
  it('finds the ids in a payload that fails the full schema (so its task still hears of it)', () => {
    expect(extractWorkIdentity({ ...ids, files: 'not-an-array' })).toEqual(ids);
  });

  it('reads JSON text and bytes', () => {
    expect(extractWorkIdentity(JSON.stringify(ids))).toEqual(ids);
    expect(extractWorkIdentity(new TextEncoder().encode(JSON.stringify(ids)))).toEqual(ids);
  });

  it('gives up on payloads without usable ids', () => {
    expect(extractWorkIdentity('not json')).toBeUndefined();
    expect(extractWorkIdentity({ ...ids, attempt: 0 })).toBeUndefined();
    expect(extractWorkIdentity({ workId: 's1:1' })).toBeUndefined();
    expect(extractWorkIdentity(undefined)).toBeUndefined();
  });
});
