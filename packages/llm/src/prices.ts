/**
 * Prices per model, so every completion can be accounted in dollars.
 */
import type { Usage } from './messages.js';

/** USD per million tokens, input and output. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Prices keyed by `<provider>:<model>` (the model spec as configured). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * List prices as published by each provider in 2025 (standard tier, short prompts, no cache
 * discounts). Providers change them: override with your own table where accuracy matters.
 */
export const defaultPriceTable: PriceTable = {
  'gemini:gemini-2.5-pro': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'gemini:gemini-2.5-flash': { inputPerMillion: 0.3, outputPerMillion: 2.5 },
  'deepseek:deepseek-chat': { inputPerMillion: 0.28, outputPerMillion: 0.42 },
  'deepseek:deepseek-reasoner': { inputPerMillion: 0.28, outputPerMillion: 0.42 },
  'openai:gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'openai:gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'openai:gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'openai:gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
};

/** True for specs of the scripted provider, which never costs anything. */
function isScriptedSpec(model: string): boolean {
  return model === 'scripted' || model.startsWith('scripted:');
}

/**
 * The price of a model, or `undefined` when the table does not know it; callers that account
 * money should warn about unknown models rather than report them as free without saying so.
 */
export function priceOf(model: string, table: PriceTable = defaultPriceTable): ModelPrice | undefined {
  if (isScriptedSpec(model)) return { inputPerMillion: 0, outputPerMillion: 0 };
  return table[model];
}

/**
 * The cost in USD of `usage` on `model` (a model spec such as `gemini:gemini-2.5-pro`).
 * Scripted completions cost 0; a model missing from the table also counts 0 (check
 * {@link priceOf} to tell the two apart).
 */
export function costOf(model: string, usage: Usage, table: PriceTable = defaultPriceTable): number {
  const price = priceOf(model, table);
  if (price === undefined) return 0;
  return (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;
}
