import { formatMergedRecord, parseMergedRecord } from './merged-record.js';

describe('merged record', () => {
  it('round-trips, and anything else is not a record', () => {
    const record = { branch: 'maestro/t1', sha: 'a'.repeat(40), previous: 'b'.repeat(40) };
    expect(parseMergedRecord(formatMergedRecord(record))).toEqual(record);
    expect(parseMergedRecord('not json')).toBeUndefined();
    expect(parseMergedRecord(JSON.stringify({ ...record, sha: 'HEAD' }))).toBeUndefined();
  });
});
