/**
 * `maestro defs ls|get|put|diff`: the workflow definitions (`/v1/definitions…`): list the latest
 * of each, print one version, store a new version from a JSON file, and compare two versions.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { WORKFLOW_NAME_PATTERN } from '@maestro/contracts';
import { ExitCodes, UsageError, flag, positiveIntOption, type CommandSpec, type ParsedArgs } from '../args.js';
import { formatTable } from '../format.js';
import { segment } from '../gateway-client.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro defs ls [--json]
       maestro defs get <name> [--version N]
       maestro defs put <name> <file.json>
       maestro defs diff <name> <from> <to> [--json]

  Workflow definitions, versioned: every put of a changed document is a new version; runs
  stay pinned to the version they started with.

  Definitions belong to your tenant. The built-in ones (coding, explain) are shared by every
  tenant until yours puts one of the same name: from then on your tenant's own definition of
  that name is the one its tasks run, get and diff show, and versions count on from 1 for it;
  the shared one is unchanged for every other tenant.

  ls     the latest version of each definition
  get    one definition as JSON (the latest, or --version N)
  put    store <file.json> as the next version of <name> (unchanged documents keep their version)
  diff   what changed between versions <from> and <to>
${gatewayHelp}`;

const base = { usage, positionals: [] as string[] };

/** The argument specs of the `defs` subcommands. */
export const defsSpecs: Record<'ls' | 'get' | 'put' | 'diff', CommandSpec> = {
  ls: { ...base, name: 'defs ls', options: { json: { type: 'boolean' }, ...gatewayOption }, positionals: [] },
  get: { ...base, name: 'defs get', options: { version: { type: 'string' }, ...gatewayOption }, positionals: ['name'] },
  put: { ...base, name: 'defs put', options: { ...gatewayOption }, positionals: ['name', 'file.json'] },
  diff: { ...base, name: 'defs diff', options: { json: { type: 'boolean' }, ...gatewayOption }, positionals: ['name', 'from', 'to'] },
};

/** The umbrella spec, for `maestro defs --help` and a missing or unknown subcommand. */
export const defsSpec: CommandSpec = { ...base, name: 'defs', options: {}, positionals: [] };

interface DefinitionVersion {
  name: string;
  version: number;
  createdAt: string | null;
  definition: unknown;
}

interface Change {
  path: string;
  op: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

function checkName(name: string): string {
  if (!new RegExp(WORKFLOW_NAME_PATTERN).test(name)) {
    throw new UsageError(`<name>: "${name}" is not a workflow name (letters, digits, "_" and "-", starting with a letter or "_")`);
  }
  return name;
}

function versionArg(raw: string, what: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`<${what}>: expected a version number (1 or more), got "${raw}"`);
  return Number(raw);
}

/** Reads a definition document, naming the file and what is wrong with it. */
export function readDefinitionFile(path: string, cwd: string): unknown {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`<file.json>: cannot read ${file} (${(err as { code?: string }).code ?? String(err)})`);
  }
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('expected a JSON object');
    return doc;
  } catch (err) {
    throw new UsageError(`<file.json>: ${file} is not a JSON object (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** One line per change of a diff: `+ path: after`, `- path: before`, `~ path: before → after`. */
export function describeChanges(changes: readonly Change[]): string[] {
  const j = (v: unknown): string => JSON.stringify(v) ?? 'undefined';
  return changes.map((c) =>
    c.op === 'added' ? `+ ${c.path}: ${j(c.after)}` : c.op === 'removed' ? `- ${c.path}: ${j(c.before)}` : `~ ${c.path}: ${j(c.before)} → ${j(c.after)}`,
  );
}

async function ls(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const body = await gatewayFor(args, ctx).get<{ definitions: DefinitionVersion[] }>('/v1/definitions');
  if (flag(args, 'json')) say(ctx, JSON.stringify(body));
  else if (body.definitions.length === 0) say(ctx, 'no workflow definitions');
  else say(ctx, formatTable(['NAME', 'VERSION', 'CREATED'], body.definitions.map((d) => [d.name, String(d.version), d.createdAt ?? '-'])));
  return ExitCodes.ok;
}

async function get(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const name = checkName(args.positionals[0]!);
  const version = positiveIntOption(args, 'version', 2 ** 31 - 1);
  const body = await gatewayFor(args, ctx).get<DefinitionVersion>(`/v1/definitions/${segment(name)}${version !== undefined ? `?version=${version}` : ''}`);
  say(ctx, JSON.stringify(body, null, 2));
  return ExitCodes.ok;
}

async function put(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const name = checkName(args.positionals[0]!);
  const document = readDefinitionFile(args.positionals[1]!, ctx.cwd);
  const { status, body } = await gatewayFor(args, ctx).request<DefinitionVersion>('PUT', `/v1/definitions/${segment(name)}`, document);
  say(ctx, status === 201 ? `${body.name}: stored as version ${body.version}` : `${body.name}: unchanged, still version ${body.version}`);
  return ExitCodes.ok;
}

async function diff(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const name = checkName(args.positionals[0]!);
  const from = versionArg(args.positionals[1]!, 'from');
  const to = versionArg(args.positionals[2]!, 'to');
  const body = await gatewayFor(args, ctx).get<{ changes: Change[] }>(`/v1/definitions/${segment(name)}/diff?from=${from}&to=${to}`);
  if (flag(args, 'json')) say(ctx, JSON.stringify(body));
  else if (body.changes.length === 0) say(ctx, `${name}: versions ${from} and ${to} are the same`);
  else describeChanges(body.changes).forEach((l) => say(ctx, l));
  return ExitCodes.ok;
}

const handlers = { ls, get, put, diff } as const;

/** Runs `maestro defs …`. */
export function runDefs(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== undefined && Object.prototype.hasOwnProperty.call(handlers, sub)) {
    const name = sub as keyof typeof handlers;
    return runCommand(defsSpecs[name], rest, ctx, (args) => handlers[name](args, ctx));
  }
  // Only the flags are parsed here (for --help and unknown options); the subcommand is the fault.
  return runCommand(defsSpec, argv.filter((arg) => arg.startsWith('-')), ctx, async () => {
    throw new UsageError(sub === undefined ? 'missing subcommand (ls, get, put or diff)' : `unknown subcommand "${sub}" (expected ls, get, put or diff)`);
  });
}
