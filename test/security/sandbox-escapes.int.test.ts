/**
 * Escapes tried through the agent's exec tool, as a model would call it, with the executor's
 * bubblewrap sandbox in the tool context (packages/agent/src/sandbox): each command passes the
 * command policy (they are `node` scripts, which the policy allows on purpose), so only the
 * sandbox stands between it and the host. Each must be contained: no network, no host secret,
 * no other tenant's worktree, a bounded number of processes, a bounded file, no daemon left
 * behind. Every case has a control showing the thing it reaches for is really there on the host.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BubblewrapSandbox, createDefaultToolRegistry, type ToolContext, type ToolObservation } from '@maestro/agent';
import { processesWithArgument, testServers } from '@maestro/testing';
import { CaseTable } from './case-table.js';

const MIB = 1024 * 1024;
const FILE_LIMIT = 8 * MIB;
const PROCESS_LIMIT = 48;
const tools = createDefaultToolRegistry();
const table = new CaseTable('sandbox escapes through the exec tool');

let base: string;
let worktree: string;
let otherTenant: string;
let context: ToolContext;
/** An HTTP server of the test's own on the host's loopback, for the sandboxed fetch to aim at. */
let web: Server;
let webUrl: string;
const webRequests: string[] = [];
const WEB_BODY = 'served-to-the-host';

beforeAll(async () => {
  web = createServer((req, res) => {
    webRequests.push(req.url ?? '');
    res.end(WEB_BODY);
  });
  await new Promise<void>((resolveListen) => web.listen(0, '127.0.0.1', resolveListen));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/`;
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'maestro-sec-sandbox-')));
  worktree = path.join(base, 'tenant-a', 'worktree');
  otherTenant = path.join(base, 'tenant-b', 'worktree');
  mkdirSync(worktree, { recursive: true });
  mkdirSync(otherTenant, { recursive: true });
  writeFileSync(path.join(otherTenant, 'secret.txt'), 'tenant-b-secret\n');
  context = {
    workspace: worktree,
    sandbox: new BubblewrapSandbox({ limits: { fileSizeBytes: FILE_LIMIT, processes: PROCESS_LIMIT } }),
    execTimeoutMs: 60_000,
  };
});

afterAll(async () => {
  await new Promise((resolveClose) => web.close(resolveClose));
  rmSync(base, { recursive: true, force: true });
  table.print();
});

/** Runs a node script through the exec tool, as the model would (in `within`, the test's context by default). */
function node(script: string, within: ToolContext = context): Promise<ToolObservation> {
  return tools.run({ id: 'x', name: 'exec', argumentsJson: JSON.stringify({ argv: ['node', '-e', script] }) }, within);
}

/** Bytes free on the filesystem holding `dir`, as the sandbox reads them. */
function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}


jest.setTimeout(180_000);

it('contains every escape the command tries', async () => {
  // The network: NATS and Redis listen on the host's loopback, and so does the test's web server.
  const ports = [new URL(testServers.natsUrl).port, new URL(testServers.redisUrl).port];
  // Control: the host itself fetches the page.
  const fromHost = await fetch(webUrl).then(async (res) => `${res.status} ${await res.text()}`, (err: unknown) => `FAILED ${String(err)}`);
  // Every attempt settles before the script prints and exits.
  const network = await node(
    `const net = require('node:net');
     const connects = [${ports.join(',')}].map((port) => new Promise((settle) => {
       const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); settle('CONNECTED ' + port); });
       s.on('error', (e) => settle('FAILED ' + port + ' ' + e.code));
     }));
     const fetched = fetch(${JSON.stringify(webUrl)}).then(
       async (res) => 'FETCHED ' + res.status + ' ' + (await res.text()),
       (e) => 'FETCH FAILED ' + (e.cause?.code ?? e.message),
     );
     Promise.all([...connects, fetched]).then((lines) => { console.log(lines.join('\\n')); process.exit(0); });`,
  );
  const fetchLine = network.output.match(/FETCH(ED| FAILED) .*/)?.[0] ?? 'no fetch result';
  table.record({
    case: "connect to NATS and Redis on the host, fetch the test's web page on 127.0.0.1",
    expected: 'every connection and the fetch fail',
    got: network.output.match(/CONNECTED|FETCHED/) ? `REACHED: ${network.output.slice(0, 80)}` : [...(network.output.match(/FAILED \d+ \w+/g) ?? []), fetchLine].join(', '),
    pass:
      !/CONNECTED|FETCHED/.test(network.output) &&
      (network.output.match(/FAILED \d+/g) ?? []).length === ports.length &&
      /FETCH FAILED/.test(network.output),
  });

  // A host secret.
  const shadow = await node(`try { console.log(require('node:fs').readFileSync('/etc/shadow', 'utf8')); } catch (e) { console.log('DENIED ' + e.code); }`);
  table.record({
    case: 'read /etc/shadow',
    expected: 'not there or denied',
    got: /root:/.test(shadow.output) ? 'READ' : (shadow.output.match(/DENIED \w+/)?.[0] ?? shadow.output.slice(0, 60)),
    pass: !/root:/.test(shadow.output) && /DENIED/.test(shadow.output),
  });

  // Another tenant's worktree, by its absolute path and by walking up.
  const other = await node(
    `const fs = require('node:fs');
     for (const p of [${JSON.stringify(path.join(otherTenant, 'secret.txt'))}, '../../tenant-b/worktree/secret.txt']) {
       try { console.log('READ ' + fs.readFileSync(p, 'utf8')); } catch (e) { console.log('DENIED ' + e.code); }
     }`,
  );
  table.record({
    case: "read another tenant's worktree",
    expected: 'not there',
    got: other.output.includes('tenant-b-secret') ? 'READ' : (other.output.match(/DENIED \w+/g) ?? []).join(', '),
    pass: !other.output.includes('tenant-b-secret') && (other.output.match(/DENIED/g) ?? []).length === 2,
  });

  // Forking without bound (bounded here: at most 400 children, each sleeping, never an exponential bomb).
  const forks = await node(
    `const { spawn } = require('node:child_process'); let started = 0; let failed = 0; const kids = [];
     for (let i = 0; i < 400; i++) {
       try { const c = spawn('sleep', ['20']); c.on('error', () => { failed++; }); if (c.pid) { started++; kids.push(c); } else failed++; } catch { failed++; }
     }
     setTimeout(() => { console.log('STARTED ' + started + ' FAILED ' + failed); for (const c of kids) c.kill('SIGKILL'); process.exit(0); }, 500);`,
  );
  const started = Number(forks.output.match(/STARTED (\d+)/)?.[1] ?? NaN);
  table.record({
    case: 'fork 400 processes',
    expected: `stopped near the limit of ${PROCESS_LIMIT} processes`,
    got: Number.isNaN(started) ? `no count: ${forks.output.slice(0, 80)}` : `${started} started`,
    pass: !Number.isNaN(started) ? started < PROCESS_LIMIT : !forks.ok,
  });

  // Filling the disk.
  const fill = await node(
    `const fs = require('node:fs'); const chunk = Buffer.alloc(${MIB}, 1); const fd = fs.openSync('fill.bin', 'w');
     let written = 0; try { for (let i = 0; i < 256; i++) { fs.writeSync(fd, chunk); written++; } console.log('WROTE ' + written); } catch (e) { console.log('STOPPED ' + written + ' ' + e.code); }`,
  );
  const size = existsSync(path.join(worktree, 'fill.bin')) ? statSync(path.join(worktree, 'fill.bin')).size : 0;
  table.record({
    case: 'write 256 MiB into the worktree',
    expected: `stopped at ${FILE_LIMIT / MIB} MiB`,
    got: `${(size / MIB).toFixed(1)} MiB on disk${/WROTE 256/.test(fill.output) ? ', all written' : ''}`,
    pass: size <= FILE_LIMIT && !/WROTE 256/.test(fill.output),
  });
  rmSync(path.join(worktree, 'fill.bin'), { force: true });

  // Filling the disk with many files, each below the file limit: the disk floor ends it. The
  // floor is set 48 MiB below what is free now, so the case needs no full disk (and fills none).
  const fillDir = path.join(worktree, 'fill');
  mkdirSync(fillDir);
  const FILES = 200;
  const floored: ToolContext = {
    ...context,
    sandbox: new BubblewrapSandbox({ limits: { fileSizeBytes: FILE_LIMIT, processes: PROCESS_LIMIT, minFreeDiskBytes: Math.max(MIB, freeBytes(worktree) - 48 * MIB) } }),
  };
  const many = await node(
    `const fs = require('node:fs'); const chunk = Buffer.alloc(${MIB}, 1); let i = 0;
     const next = () => { if (i === ${FILES}) { console.log('WROTE ALL'); return; } const fd = fs.openSync('fill/' + i++ + '.bin', 'w'); fs.writeSync(fd, chunk); fs.fsyncSync(fd); fs.closeSync(fd); setTimeout(next, 10); };
     next();`,
    floored,
  );
  const files = readdirSync(fillDir).length;
  table.record({
    case: `write ${FILES} files of 1 MiB past the disk floor`,
    expected: 'ended at the floor (SANDBOX_DISK_LOW)',
    got: `${files} files, ${/SANDBOX_DISK_LOW/.test(many.output) ? 'ended by the floor' : 'not ended by the floor'}${/WROTE ALL/.test(many.output) ? ', all written' : ''}`,
    pass: /SANDBOX_DISK_LOW/.test(many.output) && files < FILES && !/WROTE ALL/.test(many.output),
  });
  rmSync(fillDir, { recursive: true, force: true });

  // A daemon left behind: detached into its own session, parent gone.
  const marker = `41.${process.pid}${Date.now() % 100000}`;
  const daemon = await node(`require('node:child_process').spawn('sleep', ['${marker}'], { detached: true, stdio: 'ignore' }).unref(); console.log('STARTED');`);
  const left = processesWithArgument(marker);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  table.record({
    case: 'leave a detached daemon behind',
    expected: 'ended with the command',
    got: `${daemon.output.includes('STARTED') ? 'started' : 'not started'}, ${left.length} left running`,
    pass: daemon.output.includes('STARTED') && left.length === 0,
  });

  // Controls: what the commands reached for is really there on the host.
  const controls = [statSync(path.join(otherTenant, 'secret.txt')).isFile(), existsSync('/etc/shadow')];
  table.record({ case: 'controls: the other worktree and /etc/shadow exist on the host', expected: 'both exist', got: controls.join(', '), pass: controls.every(Boolean) });
  // The host's fetch got the page, and it was the server's only request: the sandbox's never arrived.
  table.record({
    case: "control: the host fetches the test's web page",
    expected: `200 ${WEB_BODY}, the server's one request`,
    got: `${fromHost}, ${webRequests.length} request(s) served`,
    pass: fromHost === `200 ${WEB_BODY}` && webRequests.length === 1,
  });

  expect(table.failures()).toEqual([]);
});
