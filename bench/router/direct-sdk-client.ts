/**
 * The peer of the router benchmark: the official `openai` SDK calling the fake upstream
 * directly, one `chat.completions.create` per completion — what a caller would do without a
 * router. The router uses the same SDK (`@maestro/llm`'s OpenAI-compatible adapter) for the
 * same call, so the difference between the two paths is what the router adds.
 */
import OpenAI from 'openai';
import { BENCH_MESSAGES, BENCH_MODEL } from './conversation.js';

/** The SDK with one attempt per call (retries would hide latency) and a deadline. */
export class DirectSdkClient {
  readonly system = 'openai SDK, direct';
  private readonly client: OpenAI;

  constructor(baseURL: string, timeoutMs: number) {
    this.client = new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0, timeout: timeoutMs });
  }

  /** One chat completion; throws when the reply has no content (the fake server misbehaved). */
  async complete(): Promise<void> {
    const reply = await this.client.chat.completions.create({ model: BENCH_MODEL, messages: [...BENCH_MESSAGES] });
    if (typeof reply.choices[0]?.message.content !== 'string') throw new Error('direct SDK call: the fake server sent no content');
  }
}
