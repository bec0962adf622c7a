import { parseRecallQuery } from './recall-query.js';

describe('parseRecallQuery', () => {
  it('keeps the text for keyword search and splits off the exclusions', () => {
    expect(parseRecallQuery('redis -leases "lock manager" or jest -"slow tests"')).toEqual({
      text: 'redis -leases "lock manager" or jest -"slow tests"',
      positive: 'redis lock manager jest',
      exclusions: '-leases -"slow tests"',
    });
  });

  it('leaves hyphens inside words alone', () => {
    expect(parseRecallQuery('pre-commit hooks')).toEqual({ text: 'pre-commit hooks', positive: 'pre-commit hooks', exclusions: '' });
  });

  it('has nothing positive when the query only excludes', () => {
    expect(parseRecallQuery('-redis')).toMatchObject({ positive: '', exclusions: '-redis' });
  });
});
