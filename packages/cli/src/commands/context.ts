/**
 * What every cluster command gets (workspace root, environment, output streams) and the one
 * wrapper that parses its arguments and turns errors into exit codes: a bad argument → 2 with
 * the usage, a gateway refusal of an argument (HTTP 400) → 2 naming the field, anything else → 1.
 */
import type { Writable } from 'node:stream';
import { ExitCodes, UsageError, parseCommandArgs, stringOption, type CommandSpec, type ParsedArgs } from '../args.js';
import { CliDefaults, type CliEnv } from '../cli-env.js';
import { readApiKeyFile, readClusterState, stateDirOf } from '../cluster-state.js';
import { GatewayClient, GatewayError, GatewayUnreachableError } from '../gateway-client.js';

/** The streams and settings a command runs with; tests inject their own. */
export interface CommandContext {
  /** Workspace root (holds `services/` and `examples/`). */
  root: string;
  env: CliEnv;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  /** Where relative paths (`--repo .`) are resolved. */
  cwd: string;
  /** The signal Ctrl-C aborts (the command decides what stopping means). */
  interrupt: AbortSignal;
}

/** The `--gateway` and `--api-key` options every client command has. */
export const gatewayOption = { gateway: { type: 'string' }, 'api-key': { type: 'string' } } as const;

/** The help lines about `--gateway` and `--api-key`. */
export const gatewayHelp = `  --gateway URL   the gateway (default: MAESTRO_GATEWAY_URL, else the cluster \`maestro up\` started, else ${CliDefaults.gatewayUrl})
  --api-key KEY   the API key or OIDC access token sent to the gateway as a bearer credential (default: MAESTRO_API_KEY, else the key \`maestro up\` stored for its own gateway)`;

/** Writes a line to stdout. */
export function say(ctx: CommandContext, line: string): void {
  ctx.stdout.write(`${line}\n`);
}

/** The gateway URL: `--gateway`, else `MAESTRO_GATEWAY_URL`, else the state file's, else the default. */
export function gatewayUrlFor(args: ParsedArgs, ctx: CommandContext): string {
  const flagged = stringOption(args, 'gateway');
  const chosen = flagged ?? ctx.env.gatewayUrl;
  if (chosen !== undefined) {
    let url: URL;
    try {
      url = new URL(chosen);
    } catch {
      throw new UsageError(`${flagged !== undefined ? '--gateway' : 'MAESTRO_GATEWAY_URL'}: "${chosen}" is not a URL (expected http://host:port)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`${flagged !== undefined ? '--gateway' : 'MAESTRO_GATEWAY_URL'}: expected an http:// or https:// URL, got "${chosen}"`);
    }
    return chosen.replace(/\/+$/, '');
  }
  try {
    return readClusterState(stateDirOf(ctx.env, ctx.root))?.gatewayUrl ?? CliDefaults.gatewayUrl;
  } catch {
    return CliDefaults.gatewayUrl;
  }
}

/**
 * The key for the gateway at `url`: `--api-key`, else `MAESTRO_API_KEY`, else the operator key
 * `maestro up` stored — only when `url` is the gateway that cluster runs, so the local key is
 * never sent to another server.
 */
export function apiKeyFor(args: ParsedArgs, ctx: CommandContext, url: string): string | undefined {
  const flagged = stringOption(args, 'api-key');
  if (flagged !== undefined) {
    if (flagged.trim() === '') throw new UsageError('--api-key: must not be empty');
    return flagged.trim();
  }
  if (ctx.env.apiKey !== undefined) return ctx.env.apiKey.trim();
  try {
    const stateDir = stateDirOf(ctx.env, ctx.root);
    if (readClusterState(stateDir)?.gatewayUrl.replace(/\/+$/, '') !== url) return undefined;
    return readApiKeyFile(stateDir);
  } catch {
    return undefined;
  }
}

/** A client of the gateway the arguments and environment name, with their key. */
export function gatewayFor(args: ParsedArgs, ctx: CommandContext): GatewayClient {
  const url = gatewayUrlFor(args, ctx);
  return new GatewayClient(url, apiKeyFor(args, ctx, url));
}

/**
 * Parses `argv` against `spec` and runs `body`; prints the usage for `--help`, and turns what
 * `body` throws into a message on stderr and an exit code (see the module doc).
 */
export async function runCommand(
  spec: CommandSpec,
  argv: readonly string[],
  ctx: CommandContext,
  body: (args: ParsedArgs) => Promise<number>,
): Promise<number> {
  try {
    const args = parseCommandArgs(spec, argv);
    if (args === undefined) {
      ctx.stdout.write(`${spec.usage}\n`);
      return ExitCodes.ok;
    }
    return await body(args);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr.write(`maestro ${spec.name}: ${err.message}\n\n${spec.usage}\n`);
      return ExitCodes.usage;
    }
    if (err instanceof GatewayError && err.status === 401) {
      ctx.stderr.write(
        `maestro ${spec.name}: the gateway refused the credentials: ${err.message}\n  pass --api-key KEY (an API key or an OIDC access token) or set MAESTRO_API_KEY (a cluster \`maestro up\` started uses the key it stored)\n`,
      );
      return ExitCodes.failed;
    }
    if (err instanceof GatewayError) {
      ctx.stderr.write(`maestro ${spec.name}: ${err.message}${err.status === 400 && err.field ? ` (field ${err.field})` : ''}\n`);
      return err.status === 400 ? ExitCodes.usage : ExitCodes.failed;
    }
    if (err instanceof GatewayUnreachableError) {
      ctx.stderr.write(`maestro ${spec.name}: ${err.message}\n`);
      return ExitCodes.failed;
    }
    ctx.stderr.write(`maestro ${spec.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return ExitCodes.failed;
  }
}
