/**
 * The cluster commands of `maestro`, by name, and the overview `maestro --help` prints.
 */
import { runCancel } from './cancel.js';
import type { CommandContext } from './context.js';
import { runDefs } from './defs.js';
import { runDown } from './down.js';
import { runKeys } from './keys.js';
import { runLogs } from './logs.js';
import { runLs } from './ls.js';
import { runRun } from './run.js';
import { runShow } from './show.js';
import { runUp } from './up.js';

/** Every cluster command: its runner. */
export const ClusterCommands: Record<string, (argv: readonly string[], ctx: CommandContext) => Promise<number>> = {
  up: runUp,
  down: runDown,
  run: runRun,
  ls: runLs,
  show: runShow,
  logs: runLogs,
  cancel: runCancel,
  defs: runDefs,
  keys: runKeys,
};

/** The overview of every command. */
export const overviewUsage = `usage: maestro <command> [options]      (maestro <command> --help for its options)

  up [--detach]                        start the local cluster (servers, database, migrations, the seven services)
  down                                 stop the cluster \`maestro up --detach\` started
  run "<goal>" --repo PATH             submit a task and follow it live; exit 0 only when it succeeds
      [--budget-usd N] [--workflow NAME] [--json]
  ls [--status S] [--search TEXT]      list tasks
  show <task>                          a task: subtasks, delivery, usage
  logs <task> [--follow]               the steps its agents took (live with --follow)
  cancel <task> [--reason TEXT]        cancel a task
  defs ls|get|put|diff                 workflow definitions and their versions
  keys create|ls|revoke                API keys of the gateway (scopes read, submit, admin)
  demo [--wire] [--scenario S]         the self-contained demo (starts and stops its own cluster)
  intent "<goal>"                      classify a goal offline

  The client commands talk to the gateway: --gateway URL, else MAESTRO_GATEWAY_URL, else the
  cluster \`maestro up\` started, else http://127.0.0.1:8080; with --api-key KEY, else
  MAESTRO_API_KEY, else the key \`maestro up\` stored for its own gateway.`;
