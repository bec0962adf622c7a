/**
 * Argument parsing for every `maestro` command: `node:util` parseArgs in strict mode, a
 * `--help`/`-h` on each command, and one error type for bad arguments, which the command turns
 * into exit code 2 with its usage text. Arguments are checked before anything starts.
 */
import { parseArgs } from 'node:util';

/** The exit codes of the `maestro` command. */
export const ExitCodes = {
  ok: 0,
  /** The task failed or was cancelled, the gateway refused, a cluster did not start. */
  failed: 1,
  /** A bad argument: nothing was started or sent. */
  usage: 2,
  /** Ctrl-C while following a task (the task goes on). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** A bad command-line argument; the message names it and says what is expected. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One option of a command (the parseArgs form). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Repeatable (`--memory-scope a --memory-scope b`): its value is the list, in order. */
  multiple?: boolean;
}

/** What a command accepts. */
export interface CommandSpec {
  /** `run`, `defs put` … as it appears in messages. */
  name: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Names of the positional arguments, in order; `?` marks optional ones (`reason?`). */
  positionals: readonly string[];
}

/** The parsed arguments of a command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    if (message.includes('ambiguous')) return `option ${option}: a value starting with "-" must be written ${option}=<value>`;
    if (message.includes('argument missing')) return `option ${option} needs a value`;
    return `option ${option} takes no value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return message.replace(/^Unexpected argument/, 'unexpected argument');
  return message;
}

/**
 * Parses `argv` against `spec`. Returns undefined when `--help` was asked (the caller prints
 * the usage and exits 0); throws {@link UsageError} for an unknown option, a missing value, or
 * too few or too many positional arguments.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs | undefined {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: spec.positionals.length > 0,
    }) as typeof parsed;
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
  if (parsed.values['help'] === true) return undefined;
  const required = spec.positionals.filter((p) => !p.endsWith('?'));
  if (parsed.positionals.length < required.length) {
    throw new UsageError(`missing <${required[parsed.positionals.length]!}>`);
  }
  if (parsed.positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument "${parsed.positionals[spec.positionals.length]!}"`);
  }
  return parsed;
}

/** A string option's value, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a repeatable string option, in the order given; [] when it was not given. */
export function stringListOption(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? [...value] : typeof value === 'string' ? [value] : [];
}

/** A boolean option's value. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** Parses a positive integer option (`--limit 20`), naming the option when it is not one. */
export function positiveIntOption(args: ParsedArgs, name: string, max: number): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${name}: expected a whole number from 1 to ${max}, got "${raw}"`);
  }
  return value;
}

/** Parses a positive number option (`--budget-usd 0.5`), naming the option when it is not one. */
export function positiveNumberOption(args: ParsedArgs, name: string): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name}: expected a positive number, got "${raw}"`);
  }
  return value;
}
