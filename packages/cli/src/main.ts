#!/usr/bin/env node
/**
 * The `maestro` command. `maestro demo` runs the end-to-end demo (see demo.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoScenarios, isDemoScenario, runDemo } from './demo.js';
import { runIntentCommand } from './intent-command.js';

const usage = `usage: maestro demo [--keep] [--executors N] [--wire] [--scenario default|escalation]

  demo   start the seven services locally, run a scripted coding task end to end, print the outcome
         --wire      the strategic role on the gemini adapter, the tactical on the deepseek adapter,
                     each talking to a local fake server that replays the script (not a model)
         --scenario  escalation: a subtask fails twice, escalates, the strategic hint fixes it
       maestro intent ["<goal text>" | -]
  intent classify a goal (or each line of stdin) offline; prints {"text","intent","confidence","reason"} per line

environment: MAESTRO_NATS_URL, MAESTRO_DEMO_PG_URL (server URL, default postgres://postgres@127.0.0.1:5432/postgres), MAESTRO_REDIS_URL`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'intent') return runIntentCommand(rest);
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
  const scenarioFlag = rest.indexOf('--scenario');
  const scenario = scenarioFlag >= 0 ? (rest[scenarioFlag + 1] ?? '') : 'default';
  if (!isDemoScenario(scenario)) {
    process.stderr.write(`--scenario: expected one of ${Object.keys(DemoScenarios).join(', ')}, got "${scenario}"\n`);
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
    wire: rest.includes('--wire'),
    scenario,
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
