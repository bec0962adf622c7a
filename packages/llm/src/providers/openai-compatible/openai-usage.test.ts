import { toUsage } from './openai-usage.js';

describe('toUsage', () => {
  it('reads OpenAI usage with details', () => {
    expect(
      toUsage({ prompt_tokens: 33, completion_tokens: 10, total_tokens: 43, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } }),
    ).toEqual({ inputTokens: 33, outputTokens: 10, cachedInputTokens: 0, reasoningTokens: 0 });
  });

  it('reads DeepSeek cache hits when there are no prompt details', () => {
    expect(toUsage({ prompt_tokens: 339, completion_tokens: 92, total_tokens: 431, prompt_cache_hit_tokens: 320, prompt_cache_miss_tokens: 19 })).toEqual({
      inputTokens: 339,
      outputTokens: 92,
      cachedInputTokens: 320,
    });
  });

  it('adds reasoning back when the total shows completion_tokens left it out (xAI)', () => {
    expect(
      toUsage({ prompt_tokens: 307, completion_tokens: 26, total_tokens: 588, prompt_tokens_details: { cached_tokens: 244 }, completion_tokens_details: { reasoning_tokens: 255 } }),
    ).toEqual({ inputTokens: 307, outputTokens: 281, cachedInputTokens: 244, reasoningTokens: 255 });
  });

  it('reads a top-level reasoning_tokens and null details (Azure-hosted DeepSeek)', () => {
    expect(toUsage({ prompt_tokens: 19, total_tokens: 1739, completion_tokens: 1720, prompt_tokens_details: null, reasoning_tokens: 0 })).toEqual({
      inputTokens: 19,
      outputTokens: 1720,
      reasoningTokens: 0,
    });
  });

  it('is undefined without token counts', () => {
    expect(toUsage(null)).toBeUndefined();
    expect(toUsage(undefined)).toBeUndefined();
    expect(toUsage({})).toBeUndefined();
    expect(toUsage([1])).toBeUndefined();
  });
});
