/**
 * Structured logging: a small `Logger` interface over pino. Messages are fixed strings and
 * data goes in fields, so logs can be searched: `logger.info('lock acquired', { concern })`.
 */
import { pino, type Logger as PinoLogger } from 'pino';

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
    options.destination ?? process.stdout,
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
