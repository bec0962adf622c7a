/**
 * `pnpm --filter @maestro/bench run context [-- --transcripts <file>] [--json]`: replays agent
 * transcripts through the condenser and prints the input tokens sent without and with it, the
 * cacheable share and the facts kept, next to a plain sliding window. Prints, never asserts.
 * See bench/README.md ("context").
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseContextBenchArgs, runContextBench } from './context-bench.js';

const WORKSPACE_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

try {
  // pnpm runs scripts in the package's directory; INIT_CWD is where the command was typed.
  const options = parseContextBenchArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd(), WORKSPACE_ROOT);
  await runContextBench(options, (line) => process.stdout.write(`${line}\n`));
} catch (err) {
  process.stderr.write(`context bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
