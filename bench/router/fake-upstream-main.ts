/**
 * The fake upstream process of the router benchmark: `@maestro/testing`'s fake OpenAI-compatible
 * server on 127.0.0.1 (port chosen by the system), answering every chat completion with
 * {@link BENCH_REPLY}. Prints `fake upstream listening on <openai base URL>` once it serves; on
 * SIGTERM prints `fake upstream served <n>` (chat completions answered) and exits.
 */
import { startFakeOpenAIServer } from '@maestro/testing';
import { BENCH_REPLY } from './conversation.js';

const server = await startFakeOpenAIServer({ reply: async () => BENCH_REPLY });
process.stdout.write(`fake upstream listening on ${server.openaiBaseUrl}\n`);

process.once('SIGTERM', () => {
  process.stdout.write(`fake upstream served ${server.chatRequests.length}\n`);
  void server.close().finally(() => process.exit(0));
});
