import { InMemoryUsageLedger, percentileCont } from '../src/store/in-memory-usage-ledger.js';
import { defineUsageLedgerContract } from './usage-ledger.contract.js';

defineUsageLedgerContract('in-memory', async () => new InMemoryUsageLedger());

it('interpolates percentiles as PostgreSQL percentile_cont does', () => {
  expect(percentileCont([10, 20, 30, 40], 0.5)).toBe(25);
  expect(percentileCont([10], 0.99)).toBe(10);
  expect(percentileCont([], 0.5)).toBe(0);
});
