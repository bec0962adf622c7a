import { assertWithinBudget, validateBudget } from './budget.js';

describe('task budgets', () => {
  it('refuses a call once either limit is reached, with the totals', () => {
    expect(() => assertWithinBudget('t1', { usd: 0, tokens: 1000 }, { tokens: 999, usd: 5 })).not.toThrow();
    expect(() => assertWithinBudget('t1', { usd: 0, tokens: 1000 }, { tokens: 1000, usd: 0 })).toThrow(
      expect.objectContaining({ code: 'BUDGET_EXHAUSTED', message: expect.stringContaining('1000 of 1000 tokens') }),
    );
    expect(() => assertWithinBudget('t1', { usd: 0.5, tokens: 0 }, { tokens: 10, usd: 0.6 })).toThrow(expect.objectContaining({ code: 'BUDGET_EXHAUSTED' }));
    expect(() => assertWithinBudget('t1', { usd: 0, tokens: 0 }, { tokens: 1e9, usd: 1e9 })).not.toThrow();
  });

  it('rejects negative or non-numeric limits, naming the field', () => {
    expect(() => validateBudget({ budgetUsd: -1, budgetTokens: 0 })).toThrow(expect.objectContaining({ field: 'budget_usd' }));
    expect(() => validateBudget({ budgetUsd: Number.NaN, budgetTokens: 0 })).toThrow(expect.objectContaining({ field: 'budget_usd' }));
    expect(() => validateBudget({ budgetUsd: 1, budgetTokens: -5 })).toThrow(expect.objectContaining({ field: 'budget_tokens' }));
    expect(validateBudget({ budgetUsd: 1.5, budgetTokens: 100 })).toEqual({ usd: 1.5, tokens: 100 });
  });
});
