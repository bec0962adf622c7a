import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ExitCodes, type CommandSpec } from '../args.js';
import { readCliEnv } from '../cli-env.js';
import { GatewayError } from '../gateway-client.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, type CommandContext } from './context.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const spec: CommandSpec = { name: 'ls', usage: 'usage: maestro ls', options: { ...gatewayOption }, positionals: [] };
// Shaped like an OIDC access token (three base64url parts); never sent to a real provider.
const token = 'eyJhbGciOiJSUzI1NiJ9.eyJ0ZW5hbnQiOiJhY21lIiwic2NvcGUiOiJtYWVzdHJvOnJlYWQifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

describe('the credentials help and refusal', () => {
  let dir: string;
  let server: Server;
  let url: string;
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maestro-cli-context-'));
    // A gateway that refuses every credential the way the real one refuses an expired token.
    server = createServer((request, response) => {
      seen.push(request.headers.authorization);
      response
        .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
        .end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'token expired' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  function context(): { ctx: CommandContext; out: Capture; err: Capture } {
    const out = new Capture();
    const err = new Capture();
    const env = readCliEnv({ MAESTRO_STATE_DIR: join(dir, 'state') });
    return { ctx: { root: dir, env, stdout: out, stderr: err, cwd: dir, interrupt: new AbortController().signal }, out, err };
  }

  it('says --api-key takes an OIDC access token as well as an API key', () => {
    expect(gatewayHelp).toMatch(/--api-key KEY +the API key or OIDC access token sent to the gateway/);
  });

  it.each([
    ['a request', (ctx: CommandContext, argv: readonly string[]) => runCommand(spec, argv, ctx, async (args) => (await gatewayFor(args, ctx).get('/v1/tasks'), ExitCodes.ok))],
    [
      'an event stream',
      (ctx: CommandContext, argv: readonly string[]) => runCommand(spec, argv, ctx, async (args) => (await gatewayFor(args, ctx).events('/v1/events', () => undefined), ExitCodes.ok)),
    ],
  ])('a 401 to %s exits 1 with the gateway\'s reason, sent the token as a bearer credential and never prints it', async (_what, run) => {
    const { ctx, out, err } = context();
    seen.length = 0;
    const code = await run(ctx, ['--gateway', url, '--api-key', token]);
    expect(code).toBe(ExitCodes.failed);
    expect(seen).toEqual([`Bearer ${token}`]);
    expect(err.text).toContain('maestro ls: the gateway refused the credentials: token expired\n');
    expect(err.text).toContain('an OIDC access token');
    for (const part of [token, ...token.split('.')]) expect(out.text + err.text).not.toContain(part);
  });

  it('a 401 without a JSON reason still says the credentials were refused', async () => {
    const { ctx, err } = context();
    const code = await runCommand(spec, [], ctx, async () => {
      throw new GatewayError(401, 'HTTP_401', 'GET /v1/tasks: HTTP 401', undefined);
    });
    expect(code).toBe(ExitCodes.failed);
    expect(err.text).toContain('maestro ls: the gateway refused the credentials: GET /v1/tasks: HTTP 401\n');
  });
});
