#!/usr/bin/env node
/**
 * The `maestro` command. `maestro demo` runs the end-to-end demo (see demo.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDemo } from './demo.js';

const usage = `usage: maestro demo [--keep] [--executors N]

  demo   start the seven services locally, run a scripted coding task end to end, print the outcome

environment: MAESTRO_NATS_URL, MAESTRO_DEMO_PG_URL (server URL, default postgres://postgres@127.0.0.1:5432/postgres), MAESTRO_REDIS_URL`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'demo') {
    process.stderr.write(`${usage}\n`);
    return command === undefined || command === '--help' ? 0 : 2;
  }
  const executorsFlag = rest.indexOf('--executors');
  const executors = executorsFlag >= 0 ? Number(rest[executorsFlag + 1]) : 2;
  if (!Number.isInteger(executors) || executors < 1 || executors > 8) {
    process.stderr.write('--executors: expected an integer from 1 to 8\n');
    return 2;
  }
  const root = resolve(fileURLToPath(import.meta.url), '../../../..');
  const ok = await runDemo({
    root,
    natsUrl: process.env['MAESTRO_NATS_URL'] ?? 'nats://127.0.0.1:4222',
    postgresUrl: process.env['MAESTRO_DEMO_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env['MAESTRO_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    executors,
    keep: rest.includes('--keep'),
  });
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`maestro: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
