/**
 * Entry of the watchdog process a foreground `maestro up` starts (see parent-watchdog.ts):
 * `node watchdog-main.js <grace ms>`, the watched processes on stdin.
 */
import { CliDefaults } from './cli-env.js';
import { runWatchdog } from './parent-watchdog.js';

// It lives in a session of its own; a terminal's hang-up or Ctrl-C is the supervisor's business.
process.on('SIGHUP', () => undefined);
process.on('SIGINT', () => undefined);

const graceMs = Number(process.argv[2] ?? CliDefaults.stopGraceMs);
runWatchdog(process.stdin, { graceMs: Number.isFinite(graceMs) && graceMs >= 0 ? graceMs : CliDefaults.stopGraceMs }).then(
  (left) => {
    if (left.length > 0) process.stderr.write(`maestro watchdog: still running after SIGKILL: ${left.join(', ')}\n`);
    process.exit(left.length > 0 ? 1 : 0);
  },
  (err: unknown) => {
    process.stderr.write(`maestro watchdog: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
