import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costOf, defaultPriceTable, loadPriceTable, priceOf, priceUsage } from './prices.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-prices-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a price table file (as MAESTRO_PRICE_TABLE_PATH would name it) and returns its path. */
function priceFile(name: string, table: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(table));
  return path;
}

describe('loadPriceTable with a valid override file', () => {
  it('changes the price of the model it names, and the USD of a call priced with it, leaving the others as built in', () => {
    const path = priceFile('override.json', {
      $comment: 'negotiated prices',
      'openai:gpt-4o': { inputPerMillion: 5, outputPerMillion: 20 },
    });
    const table = loadPriceTable(path);

    expect(priceOf('openai:gpt-4o', table)).toEqual({ inputPerMillion: 5, outputPerMillion: 20 });
    // 1M input × 5 + 100k output × 20, where the built-in list price gives 2.5 + 1.
    const call = { inputTokens: 1_000_000, outputTokens: 100_000 };
    expect(costOf('openai:gpt-4o', call)).toBeCloseTo(3.5, 9);
    expect(priceUsage('openai:gpt-4o', call, table)).toEqual({ costUsd: expect.closeTo(7, 9), priced: true });

    // The models the file does not name keep their built-in price; the defaults are untouched.
    expect(priceOf('gemini:gemini-2.5-pro', table)).toEqual(defaultPriceTable['gemini:gemini-2.5-pro']);
    expect(priceOf('openai:gpt-4o')).toEqual({ inputPerMillion: 2.5, cachedInputPerMillion: 1.25, outputPerMillion: 10 });
  });

  it('prices a model it adds, which the built-in table leaves unpriced', () => {
    const table = loadPriceTable(priceFile('added.json', { 'deepseek:deepseek-v4': { inputPerMillion: 0.5, outputPerMillion: 1 } }));
    const call = { inputTokens: 2_000_000, outputTokens: 1_000_000 };
    expect(priceUsage('deepseek:deepseek-v4', call)).toEqual({ costUsd: 0, priced: false });
    expect(priceUsage('deepseek:deepseek-v4', call, table)).toEqual({ costUsd: expect.closeTo(2, 9), priced: true });
  });
});

describe('priceUsage of a model with its own cached-input and reasoning prices', () => {
  // Input 2, cache hits 0.5, visible output 8, reasoning 12 (USD per million tokens).
  const table = () =>
    loadPriceTable(
      priceFile('reasoner.json', {
        'openai:o-reasoner': { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8, reasoningPerMillion: 12 },
      }),
    );
  const usd = (usage: Parameters<typeof costOf>[1]) => costOf('openai:o-reasoner', usage, table());

  it('prices each kind of token at its own rate', () => {
    expect(usd({ inputTokens: 1_000_000, outputTokens: 0 })).toBeCloseTo(2, 9);
    expect(usd({ inputTokens: 1_000_000, cachedInputTokens: 1_000_000, outputTokens: 0 })).toBeCloseTo(0.5, 9);
    expect(usd({ inputTokens: 0, outputTokens: 1_000_000 })).toBeCloseTo(8, 9);
    expect(usd({ inputTokens: 0, outputTokens: 1_000_000, reasoningTokens: 1_000_000 })).toBeCloseTo(12, 9);
  });

  it('adds the kinds up in a call that has them all', () => {
    // 600k uncached × 2 + 400k cached × 0.5 + 150k visible × 8 + 50k reasoning × 12
    const call = { inputTokens: 1_000_000, cachedInputTokens: 400_000, outputTokens: 200_000, reasoningTokens: 50_000 };
    expect(usd(call)).toBeCloseTo(1.2 + 0.2 + 1.2 + 0.6, 9);
  });
});
