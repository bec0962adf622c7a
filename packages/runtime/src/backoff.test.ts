import { exponentialBackoff } from './backoff.js';

it('doubles from the base and stops at the cap', () => {
  const delay = exponentialBackoff({ baseMs: 250, maxMs: 1_000 });
  expect([1, 2, 3, 4, 10].map(delay)).toEqual([250, 500, 1_000, 1_000, 1_000]);
});
