/**
 * `maestro keys create|ls|revoke`: the gateway's API keys (`/v1/keys`, scope admin). A new key
 * is printed once, by `create`; the gateway keeps only its hash.
 */
import { ExitCodes, UsageError, flag, stringOption, type CommandSpec, type ParsedArgs } from '../args.js';
import { formatTable } from '../format.js';
import { segment } from '../gateway-client.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, say, type CommandContext } from './context.js';

/** The scopes a key may carry (the gateway's). */
export const KeyScopes = ['read', 'submit', 'admin'] as const;

const usage = `usage: maestro keys create --name NAME --scopes read[,submit][,admin] [--tenant T] [--json]
       maestro keys ls [--json]
       maestro keys revoke <key id>

  API keys of the gateway (needs a key with scope admin, such as the one \`maestro up\` stored).

  create   a new key; it is printed once (the gateway keeps only its hash)
           --scopes: read (every GET), submit (tasks, cancels, definitions, memories), admin (keys)
           --tenant: the key's tenant (only the operator key may name another tenant than its own)
  ls       the keys of your tenant: id, name, scopes, created, revoked
  revoke   revoke a key at once; requests with it are refused from then on
${gatewayHelp}`;

const base = { usage, positionals: [] as string[] };

/** The argument specs of the `keys` subcommands. */
export const keysSpecs: Record<'create' | 'ls' | 'revoke', CommandSpec> = {
  create: { ...base, name: 'keys create', options: { name: { type: 'string' }, scopes: { type: 'string' }, tenant: { type: 'string' }, json: { type: 'boolean' }, ...gatewayOption }, positionals: [] },
  ls: { ...base, name: 'keys ls', options: { json: { type: 'boolean' }, ...gatewayOption }, positionals: [] },
  revoke: { ...base, name: 'keys revoke', options: { ...gatewayOption }, positionals: ['key id'] },
};

/** The umbrella spec, for `maestro keys --help` and a missing or unknown subcommand. */
export const keysSpec: CommandSpec = { ...base, name: 'keys', options: {}, positionals: [] };

interface KeyView {
  id: string;
  name: string;
  tenant: string;
  scopes: string[];
  createdAt: string;
  revokedAt?: string | null;
  lastUsedAt?: string | null;
}

/** Parses `--scopes read,submit`: known scopes, at least one, no repeats. */
export function parseScopes(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') throw new UsageError(`--scopes: required (a comma-separated list of ${KeyScopes.join(', ')})`);
  const scopes = raw.split(',').map((s) => s.trim());
  for (const scope of scopes) {
    if (!(KeyScopes as readonly string[]).includes(scope)) throw new UsageError(`--scopes: unknown scope "${scope}" (expected ${KeyScopes.join(', ')})`);
  }
  if (new Set(scopes).size !== scopes.length) throw new UsageError('--scopes: a scope is named twice');
  return scopes;
}

async function create(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const name = stringOption(args, 'name');
  if (name === undefined || name.trim() === '') throw new UsageError('--name: required (what the key is for, e.g. "ci")');
  const scopes = parseScopes(stringOption(args, 'scopes'));
  const tenant = stringOption(args, 'tenant');
  if (tenant !== undefined && tenant.trim() === '') throw new UsageError('--tenant: must not be empty (leave it out for your own tenant)');
  const body = await gatewayFor(args, ctx).post<KeyView & { key: string }>('/v1/keys', { name: name.trim(), scopes, ...(tenant !== undefined ? { tenant } : {}) });
  if (flag(args, 'json')) {
    say(ctx, JSON.stringify(body));
    return ExitCodes.ok;
  }
  say(ctx, `key ${body.id} (${body.name}) for tenant ${body.tenant}, scopes ${body.scopes.join(',')}:`);
  say(ctx, body.key);
  say(ctx, 'It is shown only now: keep it in a secret store. Revoke it with `maestro keys revoke ' + body.id + '`.');
  return ExitCodes.ok;
}

async function ls(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const body = await gatewayFor(args, ctx).get<{ keys: KeyView[] }>('/v1/keys');
  if (flag(args, 'json')) say(ctx, JSON.stringify(body));
  else if (body.keys.length === 0) say(ctx, 'no keys');
  else {
    say(
      ctx,
      formatTable(
        ['ID', 'NAME', 'TENANT', 'SCOPES', 'CREATED', 'REVOKED'],
        body.keys.map((k) => [k.id, k.name, k.tenant, k.scopes.join(','), k.createdAt, k.revokedAt ?? '-']),
      ),
    );
  }
  return ExitCodes.ok;
}

async function revoke(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const id = args.positionals[0]!;
  if (id.trim() === '') throw new UsageError('<key id>: must not be empty');
  const body = await gatewayFor(args, ctx).delete<{ id: string; revokedAt: string }>(`/v1/keys/${segment(id)}`);
  say(ctx, `key ${body.id} revoked at ${body.revokedAt}`);
  return ExitCodes.ok;
}

const handlers = { create, ls, revoke } as const;

/** Runs `maestro keys …`. */
export function runKeys(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== undefined && Object.prototype.hasOwnProperty.call(handlers, sub)) {
    const name = sub as keyof typeof handlers;
    return runCommand(keysSpecs[name], rest, ctx, (args) => handlers[name](args, ctx));
  }
  return runCommand(keysSpec, argv.filter((arg) => arg.startsWith('-')), ctx, async () => {
    throw new UsageError(sub === undefined ? 'missing subcommand (create, ls or revoke)' : `unknown subcommand "${sub}" (expected create, ls or revoke)`);
  });
}
