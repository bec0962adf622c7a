/**
 * Servers of a test's own: a nats-server, a redis-server and a PostgreSQL cluster, each on a
 * port of its own with its data in a temp directory, started and killed by the PID this process
 * spawned. Fault tests kill and restart these, never the machine's shared servers.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@maestro/cli';
import { waitUntil } from '@maestro/testing';

/** Where the server binaries are on this machine (Debian packages). */
export const ServerBinaries = {
  nats: '/usr/sbin/nats-server',
  redis: '/usr/bin/redis-server',
  /** The newest PostgreSQL under /usr/lib/postgresql/<major>/bin. */
  postgresBin: (): string => {
    const majors = readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    if (majors.length === 0) throw new Error('no PostgreSQL under /usr/lib/postgresql');
    return join('/usr/lib/postgresql', majors[0]!, 'bin');
  },
} as const;

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until `probe` holds (bounds the wait; not a timing assertion); the fault tests import it from here. */
export { waitUntil };

/**
 * One server process this test owns: started by `spawnServer`, signalled by its own PID only.
 * `start()` can be called again after `kill()` (a restart on the same port and data directory).
 */
abstract class PrivateServer {
  private process: ChildProcess | undefined;

  constructor(readonly port: number) {}

  protected abstract spawnServer(): ChildProcess;

  /** Human name for errors. */
  protected abstract readonly name: string;

  /** The PID of the running server (undefined when it is not running). */
  get pid(): number | undefined {
    const child = this.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.pid !== undefined) return;
    const child = this.spawnServer();
    this.process = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`the private ${this.name} exited during start-up (${code ?? signal})`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitUntil(`the private ${this.name} to listen on ${this.port}`, () => accepts(this.port)), exited]);
  }

  /** Sends `signal` to the server this test started (by its PID) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid!, signal);
    await exited;
    this.process = undefined;
    await waitUntil(`the private ${this.name} to stop listening on ${this.port}`, async () => !(await accepts(this.port)));
  }

  /** Kills (SIGKILL unless told) and starts the server again on the same port and data. */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    await this.start();
  }
}

/** A nats-server of the test's own: JetStream on, its store in `storeDir` (kept across restarts). */
export class PrivateNats extends PrivateServer {
  protected readonly name = 'nats-server';

  constructor(
    port: number,
    private readonly storeDir: string,
  ) {
    super(port);
  }

  /** Picks a free port and a fresh store directory. */
  static async create(): Promise<PrivateNats> {
    return new PrivateNats(await freePort(), mkdtempSync(join(tmpdir(), 'private-nats-')));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  protected spawnServer(): ChildProcess {
    return spawn(ServerBinaries.nats, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
  }

  /** Kills the server and deletes its store. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/**
 * A redis-server of the test's own. Without persistence (the default) a restart loses every
 * key: the nastier case for leases and fencing.
 */
export class PrivateRedis extends PrivateServer {
  protected readonly name = 'redis-server';

  constructor(
    port: number,
    private readonly dir: string,
    private readonly persistent = false,
  ) {
    super(port);
  }

  static async create(options: { persistent?: boolean } = {}): Promise<PrivateRedis> {
    return new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'private-redis-')), options.persistent ?? false);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  protected spawnServer(): ChildProcess {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', this.persistent ? 'yes' : 'no', '--dir', this.dir];
    return spawn(ServerBinaries.redis, args, { stdio: 'ignore' });
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A PostgreSQL cluster of the test's own (trust auth, user `postgres`, fsync off), initialised
 * once by `create()`. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` OS user through `setpriv`, which execs it: the PID spawned is the postmaster's.
 * `kill('SIGQUIT')` is PostgreSQL's immediate shutdown (a crash: recovery at the next start).
 */
export class PrivatePostgres extends PrivateServer {
  protected readonly name = 'postgres';

  private constructor(
    port: number,
    private readonly dir: string,
  ) {
    super(port);
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'private-pg-'));
    const server = new PrivatePostgres(await freePort(), dir);
    if (isRoot()) chownSync(dir, postgresUser().uid, postgresUser().gid);
    const init = spawnSync(...server.asServerUser(join(ServerBinaries.postgresBin(), 'initdb'), ['-D', server.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']), {
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The server URL (database `postgres`); `createDatabase` of @maestro/cli makes more. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  protected spawnServer(): ChildProcess {
    const socketDir = join(this.dir, 'socket');
    if (!existsSync(socketDir)) {
      mkdirSync(socketDir);
      if (isRoot()) chownSync(socketDir, postgresUser().uid, postgresUser().gid);
    }
    const args = ['-D', this.dataDir, '-p', String(this.port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'];
    return spawn(...this.asServerUser(join(ServerBinaries.postgresBin(), 'postgres'), args), { stdio: 'ignore' });
  }

  /** Starts the server and waits until it takes queries (it listens before recovery is done). */
  override async start(): Promise<void> {
    await super.start();
    const isReady = join(ServerBinaries.postgresBin(), 'pg_isready');
    const ready = (): Promise<boolean> =>
      new Promise((resolve) => execFile(isReady, ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', 'postgres'], (err) => resolve(err === null)));
    await waitUntil(`the private postgres on ${this.port} to accept queries`, ready);
  }

  private asServerUser(command: string, args: string[]): [string, string[]] {
    if (!isRoot()) return [command, args];
    return ['/usr/bin/setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
  }

  async destroy(): Promise<void> {
    await this.kill('SIGQUIT');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

let postgresIds: { uid: number; gid: number } | undefined;
function postgresUser(): { uid: number; gid: number } {
  if (postgresIds === undefined) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('no postgres OS user to run a private PostgreSQL as (needed when running as root)');
    postgresIds = { uid, gid };
  }
  return postgresIds;
}
