import { UserError } from '@maestro/runtime';
import { rejectNonFiniteNumbers } from './reject-non-finite-numbers.js';

describe('rejectNonFiniteNumbers', () => {
  it('names the first field holding Infinity or NaN, and lets finite numbers and other values through', () => {
    expect(() => rejectNonFiniteNumbers({ limit: Infinity })).toThrow('limit: must be a finite number');
    expect(() => rejectNonFiniteNumbers({ budget: { usd: 1, tokens: -Infinity } })).toThrow('budget.tokens: must be a finite number');
    expect(() => rejectNonFiniteNumbers({ items: [1, NaN] })).toThrow(UserError);
    expect(() => rejectNonFiniteNumbers({ limit: 10, afterSeq: 0, q: 'Infinity', at: null, tags: ['x'] })).not.toThrow();
    expect(() => rejectNonFiniteNumbers(undefined)).not.toThrow();
  });
});
