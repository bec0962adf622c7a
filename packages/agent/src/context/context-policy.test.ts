import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@maestro/runtime';
import { contextPolicyFor, tokenCounterFor, TokenEncodings, WORKING_BUDGET_TOKENS } from './context-policy.js';

// Exact token counts from tiktoken, read in place.
const vectors = JSON.parse(readFileSync(join(__dirname, '../../../../../shared/corpora/tokens/tiktoken_vectors.json'), 'utf8')) as {
  cases: Array<{ encoding: string; text: string; count: number; allowed_special?: unknown }>;
};
const vectorFor = (encoding: string, text: string): number => {
  const found = vectors.cases.find((c) => c.encoding === encoding && c.text === text && c.allowed_special === undefined);
  if (found === undefined) throw new Error(`no ${encoding} vector for ${text}`);
  return found.count;
};

describe('contextPolicyFor', () => {
  it("gives DeepSeek its 128k window, a working budget far below it, and says its counts are estimates", () => {
    const { policy, counting, encoding } = contextPolicyFor('deepseek-chat');
    expect(policy.windowTokens).toBe(128_000);
    expect(policy.triggerTokens).toBe(WORKING_BUDGET_TOKENS);
    expect(policy.triggerTokens).toBeLessThan(policy.windowTokens / 10);
    expect(policy.targetTokens).toBeLessThan(policy.triggerTokens);
    expect(policy.summaryTokens).toBeLessThan(policy.targetTokens);
    expect(policy.reserveOutputTokens).toBe(16_000);
    expect(counting).toBe('estimate');
    expect(encoding).toBe(TokenEncodings.o200k);
  });

  it('reads a provider-prefixed spec and any case', () => {
    expect(contextPolicyFor('deepseek:deepseek-reasoner').policy).toEqual(contextPolicyFor('deepseek-chat').policy);
    expect(contextPolicyFor('OpenAI:GPT-4o').counting).toBe('exact');
  });

  it('counts OpenAI models exactly, with the table of their tokenizer', () => {
    const gpt4o = contextPolicyFor('gpt-4o-mini');
    expect(gpt4o).toMatchObject({ counting: 'exact', encoding: 'o200k_base', policy: { windowTokens: 128_000 } });
    expect(contextPolicyFor('o3-mini')).toMatchObject({ counting: 'exact', encoding: 'o200k_base', policy: { windowTokens: 200_000 } });
    expect(contextPolicyFor('gpt-4.1')).toMatchObject({ counting: 'exact', policy: { windowTokens: 1_047_576 } });
    const gpt4 = contextPolicyFor('gpt-4');
    expect(gpt4).toMatchObject({ counting: 'exact', encoding: 'cl100k_base', policy: { windowTokens: 8_192 } });
    const text = 'Привет, мир! Как дела?';
    expect(gpt4.tokenCounter.countTokens(text)).toBe(vectorFor('cl100k_base', text));
    expect(gpt4o.tokenCounter.countTokens(text)).toBe(vectorFor('o200k_base', text));
    expect(tokenCounterFor(TokenEncodings.cl100k)).toBe(gpt4.tokenCounter);
  });

  it('fits a small window: the trigger is at most a quarter of what is usable', () => {
    const { policy } = contextPolicyFor('gpt-4');
    expect(policy.triggerTokens).toBeLessThanOrEqual((policy.windowTokens - policy.reserveOutputTokens) / 4);
    expect(policy.targetTokens).toBeGreaterThan(0);
  });

  it('gives Gemini 2.x its million-token window but the same working budget', () => {
    const { policy, counting } = contextPolicyFor('gemini:gemini-2.5-pro');
    expect(policy.windowTokens).toBe(1_048_576);
    expect(policy.triggerTokens).toBe(WORKING_BUDGET_TOKENS);
    expect(counting).toBe('estimate');
  });

  it('gives an unknown model a conservative window', () => {
    const { policy, counting } = contextPolicyFor('some-local-model');
    expect(policy.windowTokens).toBe(32_000);
    expect(counting).toBe('estimate');
  });

  it('derives what is not overridden from what is', () => {
    const { policy } = contextPolicyFor('deepseek-chat', { triggerTokens: 20_000 });
    expect(policy.triggerTokens).toBe(20_000);
    expect(policy.targetTokens).toBe(9_000);
    expect(policy.summaryTokens).toBe(5_000);
    expect(contextPolicyFor('deepseek-chat', { keepRecentObservations: 5 }).policy.keepRecentObservations).toBe(5);
  });

  it.each([
    [{ targetTokens: 9_000 }, 'targetTokens'],
    [{ triggerTokens: 200_000 }, 'triggerTokens'],
    [{ summaryTokens: 5_000 }, 'summaryTokens'],
    [{ reserveOutputTokens: 128_000 }, 'reserveOutputTokens'],
    [{ maxObservationTokens: 0 }, 'maxObservationTokens'],
    [{ keepRecentObservations: 1.5 }, 'keepRecentObservations'],
  ])('refuses %j as INVALID_ARGUMENT naming %s', (overrides, field) => {
    let caught: unknown;
    try {
      contextPolicyFor('deepseek-chat', overrides);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).code).toBe('INVALID_ARGUMENT');
    expect((caught as UserError).message).toMatch(new RegExp(`^${field}:`));
  });
});
