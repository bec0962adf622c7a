/**
 * Structured logging: a small `Logger` interface over pino. Messages are fixed strings and
 * data goes in fields, so logs can be searched: `logger.info('lock acquired', { concern })`.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import { processSecrets } from './secrets/process-secrets.js';
import type { Redactor } from './secrets/secret-registry.js';

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** What every part of CodeMaestro logs through. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `bindings` (for example a traceId and an RPC method). */
  child(bindings: LogFields): Logger;
}

/** Log levels accepted by `MAESTRO_LOG_LEVEL`. */
export const LogLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LogLevels)[number];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The service name, on every line. */
  service: string;
  /** @default 'info' */
  level?: LogLevel;
  /** Write to this stream instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
  /**
   * Redacts every line as written: message, fields, bindings and serialized errors (message and
   * stack) alike, so no call site has to remember. @default processSecrets()
   */
  redactor?: Redactor;
}

class PinoBackedLogger implements Logger {
  constructor(private readonly pino: PinoLogger) {}
  debug(message: string, fields?: LogFields): void {
    this.pino.debug(fields ?? {}, message);
  }
  info(message: string, fields?: LogFields): void {
    this.pino.info(fields ?? {}, message);
  }
  warn(message: string, fields?: LogFields): void {
    this.pino.warn(fields ?? {}, message);
  }
  error(message: string, fields?: LogFields): void {
    this.pino.error(fields ?? {}, message);
  }
  child(bindings: LogFields): Logger {
    return new PinoBackedLogger(this.pino.child(bindings));
  }
}

/** A log destination that can no longer fail loudly; see {@link guardedDestination}. */
export interface GuardedDestination {
  write(line: string): boolean;
  /** True once the stream failed; nothing is written to it any more. */
  readonly broken: boolean;
}

const guarded = new WeakMap<NodeJS.WritableStream, GuardedDestination>();

/**
 * `stream` behind a guard that stops writing to it, for good, at its first error (EPIPE when
 * whatever read the service's stdout went away, EBADF …) and says so once on stderr.
 * Unguarded, that error is uncaught, the uncaught-exception handler logs it, the write fails
 * again, and the process spins in that loop at 100% CPU, starving its timers and the SIGTERM
 * handler. Logs are dropped rather than the process stopped: losing the log sink must not
 * take the service down, and SIGTERM still stops it cleanly. One guard per stream, so every
 * logger on stdout shares one error listener.
 */
export function guardedDestination(stream: NodeJS.WritableStream, service = ''): GuardedDestination {
  const existing = guarded.get(stream);
  if (existing) return existing;
  let broken = false;
  const fail = (err: unknown): void => {
    if (broken) return;
    broken = true;
    if (stream === process.stderr) return;
    const code = (err as { code?: unknown } | null)?.code;
    const reason = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
    guardedDestination(process.stderr).write(
      `${JSON.stringify({ level: 'error', service, pid: process.pid, msg: 'log destination failed; dropping log lines from now on', err: reason })}\n`,
    );
  };
  stream.on('error', fail);
  const destination: GuardedDestination = {
    write(line) {
      if (broken) return true;
      try {
        return stream.write(line);
      } catch (err) {
        fail(err);
        return true;
      }
    },
    get broken() {
      return broken;
    },
  };
  guarded.set(stream, destination);
  return destination;
}

/**
 * `destination` with each line redacted before it is written. The whole serialized line is
 * redacted, not the fields, so nothing (a child's bindings, an error's stack) escapes; a secret
 * escaped inside JSON is matched in that form, and the marker needs no escaping.
 */
function redactingDestination(destination: GuardedDestination, redactor: Redactor): { write(line: string): boolean } {
  return { write: (line) => destination.write(redactor.redact(line)) };
}

/** Creates the JSON logger a service uses for its whole life. */
export function createLogger(options: LoggerOptions): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    redactingDestination(guardedDestination(options.destination ?? process.stdout, options.service), options.redactor ?? processSecrets()),
  );
  return new PinoBackedLogger(base);
}

/** A logger that drops everything; for tests that don't look at logs. */
export function createSilentLogger(): Logger {
  const silent: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    child: () => silent,
  };
  return silent;
}
