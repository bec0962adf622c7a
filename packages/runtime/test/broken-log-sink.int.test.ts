/**
 * A service whose stdout reader goes away (a log shipper restarted, `svc | head` ended) keeps
 * working without logs and still stops cleanly on SIGTERM, instead of logging its own write
 * error forever at 100% CPU. Runs a real process through `runService` and `createLogger`,
 * from the built package (`pnpm build` first, as for the e2e tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const runtimeDist = join(__dirname, '..', 'dist', 'index.js');

/** Logs every 5 ms to stdout; reports on stderr every 200 ms how much CPU it used meanwhile. */
const serviceScript = `
import { createLogger, runService } from ${JSON.stringify(pathToFileURL(runtimeDist).href)};
runService('sink-test', async (lifecycle) => {
  const logger = createLogger({ service: 'sink-test' });
  lifecycle.setLogger(logger);
  const ticker = setInterval(() => logger.info('tick', { at: Date.now() }), 5);
  lifecycle.onShutdown('ticker', () => clearInterval(ticker));
  let since = process.cpuUsage();
  const heartbeat = setInterval(() => {
    const used = process.cpuUsage(since);
    since = process.cpuUsage();
    process.stderr.write('alive ' + Math.round((used.user + used.system) / 1000) + '\\n');
  }, 200);
  lifecycle.onShutdown('heartbeat', () => clearInterval(heartbeat));
  process.stderr.write('ready\\n');
});
`;

let dir: string;
let child: ChildProcess | undefined;

beforeAll(() => {
  if (!existsSync(runtimeDist)) throw new Error(`${runtimeDist} is missing; run \`pnpm build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'broken-log-sink-'));
  writeFileSync(join(dir, 'service.mjs'), serviceScript);
});

afterAll(() => {
  // Only the process this test started, and only if it is still there.
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves once `condition` holds; rejects after `ms`, showing what the process said. */
function until(condition: () => boolean, what: string, said: () => string, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const poll = setInterval(() => {
      if (condition()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}; stderr so far:\n${said().slice(0, 2000)}`));
      }
    }, 20);
  });
}

const notice = 'log destination failed; dropping log lines from now on';

it('keeps running without logs when its stdout reader goes away, and exits 0 on SIGTERM', async () => {
  const proc = spawn(process.execPath, [join(dir, 'service.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let stdoutLines = 0;
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdoutLines += chunk.split('\n').length - 1;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const said = (): string => stderr;
  await until(() => stderr.includes('ready\n'), 'the service to start', said);
  await until(() => stdoutLines > 3, 'log lines on stdout', said);

  // The reader goes away: the service's next writes fail with EPIPE.
  proc.stdout!.destroy();

  // Still alive: its timers keep firing (a logging loop would starve them) ...
  const afterNotice = (text: string): string[] =>
    text.includes(notice) ? text.slice(text.indexOf(notice)).split('\n').filter((l) => l.startsWith('alive ')) : [];
  await until(() => afterNotice(stderr).length >= 6, 'heartbeats after the log sink broke', said);
  // ... it says once why logs stop, and does not spin: well under half of each 200 ms busy.
  expect(stderr.split(notice).length - 1).toBe(1);
  const cpuMs = afterNotice(stderr).slice(1).map((line) => Number(line.slice('alive '.length)));
  expect(cpuMs.reduce((a, b) => a + b, 0) / cpuMs.length).toBeLessThan(100);

  proc.kill('SIGTERM');
  const outcome = await Promise.race([
    exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 5000).unref()),
  ]);
  expect(outcome).toEqual({ code: 0, signal: null });
}, 30_000);
