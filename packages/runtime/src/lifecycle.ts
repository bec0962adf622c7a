/**
 * Process lifecycle for a service's `main.ts`: run start-up, translate a bad configuration
 * into a one-line message naming the variable and exit code 1, and on SIGTERM/SIGINT run the
 * registered shutdown hooks (reverse order: stop accepting, drain, close) before exiting 0.
 *
 * @example
 * runService('router', async (lifecycle) => {
 *   const config = loadRouterConfig();
 *   ...
 *   lifecycle.onShutdown('grpc server', () => server.shutdown());
 * });
 */
import { ConfigError } from './config.js';
import { guardedDestination, type Logger } from './logger.js';
import { processSecrets } from './secrets/process-secrets.js';

/** Registers what must happen when the process is asked to stop. */
export interface Lifecycle {
  /** Hooks run in reverse order of registration, each awaited. */
  onShutdown(name: string, hook: () => Promise<void> | void): void;
  /** Gives the lifecycle the service's logger once it exists. */
  setLogger(logger: Logger): void;
  /** Resolves when shutdown has begun (for loops that should stop). */
  readonly stopping: Promise<void>;
}

/** Options for {@link runService}. */
export interface RunServiceOptions {
  /** Longest time all hooks together may take before the process exits anyway. @default 30000 */
  shutdownTimeoutMs?: number;
}

/** Runs a service's start-up and owns its signals until the process exits. */
export function runService(
  name: string,
  start: (lifecycle: Lifecycle) => Promise<void>,
  options: RunServiceOptions = {},
): void {
  const hooks: Array<{ name: string; hook: () => Promise<void> | void }> = [];
  let logger: Logger | undefined;
  let beginStopping!: () => void;
  const stopping = new Promise<void>((resolve) => {
    beginStopping = resolve;
  });
  let shuttingDown = false;

  // Logging must never throw or fail loudly here: this also runs for uncaught exceptions, and
  // an error raised while logging one would come straight back (see guardedDestination).
  const stderr = guardedDestination(process.stderr, name);
  const log = (level: 'info' | 'error', message: string, fields: Record<string, unknown> = {}): void => {
    try {
      if (logger) logger[level](message, fields);
      else stderr.write(processSecrets().redact(`${JSON.stringify({ level, service: name, msg: message, ...fields })}\n`));
    } catch {
      // Nowhere left to say it.
    }
  };

  const shutdown = async (signal: string, exitCode: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    beginStopping();
    log('info', 'shutting down', { signal });
    const timer = setTimeout(() => {
      log('error', 'shutdown timed out; exiting', { timeoutMs: options.shutdownTimeoutMs ?? 30_000 });
      process.exit(exitCode === 0 ? 1 : exitCode);
    }, options.shutdownTimeoutMs ?? 30_000);
    timer.unref();
    for (const { name: hookName, hook } of [...hooks].reverse()) {
      try {
        await hook();
      } catch (err) {
        log('error', 'shutdown hook failed', { hook: hookName, err: err instanceof Error ? err.message : String(err) });
      }
    }
    log('info', 'stopped');
    process.exit(exitCode);
  };

  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('unhandledRejection', (reason) => {
    log('error', 'unhandled promise rejection', { err: reason instanceof Error ? reason.stack : String(reason) });
    void shutdown('unhandledRejection', 1);
  });
  process.on('uncaughtException', (err) => {
    log('error', 'uncaught exception', { err: err.stack ?? err.message });
    void shutdown('uncaughtException', 1);
  });

  const lifecycle: Lifecycle = {
    onShutdown: (hookName, hook) => hooks.push({ name: hookName, hook }),
    setLogger: (l) => {
      logger = l;
    },
    stopping,
  };

  start(lifecycle).then(
    () => log('info', 'started'),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        stderr.write(processSecrets().redact(`${name}: ${err.message}\n`));
        process.exit(1);
      }
      log('error', 'failed to start', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      void shutdown('startup failure', 1);
    },
  );
}
