/**
 * Prices per model, kept as data (`default-prices.json`, overridable by a file), so every
 * completion is accounted in dollars — with cached input and reasoning priced on their own —
 * and a model nobody priced is reported as unpriced, never as free.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '@maestro/runtime';
import defaultPrices from './default-prices.json' with { type: 'json' };
import type { Usage } from './messages.js';

const ModelPriceSchema = z
  .object({
    inputPerMillion: z.number().nonnegative(),
    outputPerMillion: z.number().nonnegative(),
    cachedInputPerMillion: z.number().nonnegative().optional(),
    reasoningPerMillion: z.number().nonnegative().optional(),
  })
  .strict();

/**
 * USD per million tokens. Cached input defaults to the input price and reasoning to the output
 * price when a provider does not price them apart.
 */
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/** Prices keyed by model spec (`<provider>:<model>`). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

const PriceTableSchema = z.record(z.string().regex(/^[a-z]+:.+$/, 'keys are model specs such as "gemini:gemini-2.5-pro"'), ModelPriceSchema);

/** Validates a price table; a `UserError` (`PRICE_TABLE_INVALID`) lists every problem by model. */
export function parsePriceTable(raw: unknown, source = 'price table'): PriceTable {
  const withoutComment =
    raw !== null && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([key]) => key !== '$comment'))
      : raw;
  const parsed = PriceTableSchema.safeParse(withoutComment);
  if (parsed.success) return Object.freeze(parsed.data);
  const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
  throw new UserError('PRICE_TABLE_INVALID', `${source} is invalid: ${problems.join('; ')}`, { details: { problems } });
}

/** The built-in list prices (`default-prices.json`). Providers change them: override where accuracy matters. */
export const defaultPriceTable: PriceTable = parsePriceTable(defaultPrices, 'default-prices.json');

/**
 * Reads a price table file and lays it over the defaults (its models replace or add to the
 * built-in ones). A missing file, bad JSON or a bad entry is a `UserError` naming the file.
 */
export function loadPriceTable(path: string, base: PriceTable = defaultPriceTable): PriceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError('PRICE_TABLE_INVALID', `price table ${path} cannot be read as JSON: ${(err as Error).message}`, { cause: err });
  }
  return Object.freeze({ ...base, ...parsePriceTable(raw, `price table ${path}`) });
}

/** True for specs of the scripted provider, which never costs anything. */
function isScriptedSpec(model: string): boolean {
  return model === 'scripted' || model.startsWith('scripted:');
}

/** The price of a model spec, or `undefined` when the table does not know it. Scripted is free. */
export function priceOf(model: string, table: PriceTable = defaultPriceTable): ModelPrice | undefined {
  if (isScriptedSpec(model)) return { inputPerMillion: 0, outputPerMillion: 0 };
  return table[model];
}

/** What a usage cost: `priced: false` means the model has no price and `costUsd` (0) is unknown, not free. */
export interface UsageCost {
  costUsd: number;
  priced: boolean;
}

/**
 * Prices `usage` on `model`: uncached input, cached input, visible output and reasoning output
 * each at their own rate.
 */
export function priceUsage(model: string, usage: Usage, table: PriceTable = defaultPriceTable): UsageCost {
  const price = priceOf(model, table);
  if (price === undefined) return { costUsd: 0, priced: false };
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const reasoning = Math.min(usage.reasoningTokens ?? 0, usage.outputTokens);
  const micro =
    (usage.inputTokens - cached) * price.inputPerMillion +
    cached * (price.cachedInputPerMillion ?? price.inputPerMillion) +
    (usage.outputTokens - reasoning) * price.outputPerMillion +
    reasoning * (price.reasoningPerMillion ?? price.outputPerMillion);
  return { costUsd: micro / 1_000_000, priced: true };
}

/** The cost in USD of `usage` on `model`; 0 for unpriced models too (use {@link priceUsage} to tell them apart). */
export function costOf(model: string, usage: Usage, table: PriceTable = defaultPriceTable): number {
  return priceUsage(model, usage, table).costUsd;
}
