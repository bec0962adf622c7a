#!/usr/bin/env node
/**
 * The `maestro` command: the cluster commands (`up`, `down`, `run`, `ls`, `show`, `logs`,
 * `cancel`, `defs`; see commands/), `maestro demo` (demo.ts) and `maestro intent`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliDefaults, readCliEnv } from './cli-env.js';
import { ClusterCommands, overviewUsage } from './commands/index.js';
import { DemoScenarios, isDemoScenario, runDemo } from './demo.js';
import { runIntentCommand } from './intent-command.js';

const demoUsage = `usage: maestro demo [--keep] [--executors N] [--wire] [--scenario default|escalation]

  start the seven services locally, run a scripted coding task end to end, print the outcome
  --wire      the strategic role on the gemini adapter, the tactical on the deepseek adapter,
              each talking to a local fake server that replays the script (not a model)
  --scenario  escalation: a subtask fails twice, escalates, the strategic hint fixes it

environment: MAESTRO_NATS_URL, MAESTRO_DEMO_PG_URL (server URL, default postgres://postgres@127.0.0.1:5432/postgres), MAESTRO_REDIS_URL`;

const root = resolve(fileURLToPath(import.meta.url), '../../../..');

async function demo(rest: string[]): Promise<number> {
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${demoUsage}\n`);
    return 0;
  }
  const executorsFlag = rest.indexOf('--executors');
  const executors = executorsFlag >= 0 ? Number(rest[executorsFlag + 1]) : CliDefaults.executors;
  if (!Number.isInteger(executors) || executors < 1 || executors > CliDefaults.maxExecutors) {
    process.stderr.write(`--executors: expected an integer from 1 to ${CliDefaults.maxExecutors}\n`);
    return 2;
  }
  const scenarioFlag = rest.indexOf('--scenario');
  const scenario = scenarioFlag >= 0 ? (rest[scenarioFlag + 1] ?? '') : 'default';
  if (!isDemoScenario(scenario)) {
    process.stderr.write(`--scenario: expected one of ${Object.keys(DemoScenarios).join(', ')}, got "${scenario}"\n`);
    return 2;
  }
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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'intent') return runIntentCommand(rest);
  if (command === 'demo') return demo(rest);
  const run = command === undefined ? undefined : ClusterCommands[command];
  if (run === undefined || !Object.prototype.hasOwnProperty.call(ClusterCommands, command!)) {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${overviewUsage}\n`);
      return 0;
    }
    process.stderr.write(`maestro: unknown command "${command}"\n\n${overviewUsage}\n`);
    return 2;
  }
  // Ctrl-C, SIGTERM and SIGHUP (the terminal closed) end what the command is doing its own way:
  // `up` stops its cluster, `run` stops following. A second one exits at once (a foreground
  // `up`'s watchdog then stops what is left).
  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // After a hang-up the terminal is gone and writing to it fails (EIO): that must not crash a
  // command in the middle of stopping its cluster.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  return run(rest, { root, env: readCliEnv(), stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), interrupt: interrupt.signal });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`maestro: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
