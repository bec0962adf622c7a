/**
 * A {@link Logger} that keeps every line in memory (children write to the same list, with their
 * bindings), so a test can check what was logged and how: an error as `{ err }`, not its text.
 */
import type { LogFields, Logger } from '@maestro/runtime';

/** One logged line. */
export interface LoggedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** A logger recording into `lines`. */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: LoggedLine[] = [],
    private readonly bindings: LogFields = {},
  ) {}

  debug(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', message, fields: { ...this.bindings, ...fields } });
  }

  info(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', message, fields: { ...this.bindings, ...fields } });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', message, fields: { ...this.bindings, ...fields } });
  }

  error(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', message, fields: { ...this.bindings, ...fields } });
  }

  child(bindings: LogFields): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }

  /** The lines with `message`. */
  find(message: string): LoggedLine[] {
    return this.lines.filter((line) => line.message === message);
  }
}
