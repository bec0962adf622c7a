/**
 * Ports for local service processes, chosen up front (every service must know the others'
 * addresses before any starts). A port is handed out only when it can be listened on now, and
 * is then **reserved** until the service binds it:
 *
 * - below the kernel's ephemeral range (32768 and up on Linux), where every `listen(0)` of any
 *   process on the machine picks its port, so no port-0 listener takes it meanwhile;
 * - by a reservation file per port in `<tmpdir>/maestro-port-reservations/`, created
 *   exclusively (`wx`) and naming our pid, so another process choosing ports at the same moment
 *   (a second cluster: two test workers, `maestro up` beside a test run) skips it. A reservation
 *   counts while its process lives and for {@link PortRange.reservedForMs} at most: by then the
 *   service either listens on the port (and `canListen` says so) or never will.
 */
import { mkdirSync, openSync, closeSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PortRange = { min: 20_000, max: 32_000, tries: 200, reservedForMs: 10 * 60_000 } as const;
/** Ports this process handed out, never handed out twice. */
const handedOut = new Set<number>();

/** True when nothing listens on `host:port` (a listener could be opened and was closed again). */
export function canListen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1, below the ephemeral range and reserved against other processes (see the module comment). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < PortRange.tries; i++) {
    const port = PortRange.min + Math.floor(Math.random() * (PortRange.max - PortRange.min));
    if (handedOut.has(port) || !reservePort(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on 127.0.0.1 between ${PortRange.min} and ${PortRange.max} after ${PortRange.tries} tries`);
}

/** The directory of reservation files (created on first use). */
export function reservationDir(): string {
  const dir = join(tmpdir(), 'maestro-port-reservations');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Reserves `port` for this process: true when the reservation file was created, or replaced
 * because the one there had lapsed (its process gone, or older than `reservedForMs`).
 */
export function reservePort(port: number, now = Date.now()): boolean {
  const file = join(reservationDir(), String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || reservationHolds(file, now)) return false;
      // Lapsed: remove it and try once more (another process may win that race; then it is theirs).
      try {
        unlinkSync(file);
      } catch {
        return false;
      }
    }
  }
  return false;
}

/** Whether the reservation in `file` still counts: recent enough and its process alive. */
function reservationHolds(file: string, now: number): boolean {
  try {
    if (now - statSync(file).mtimeMs > PortRange.reservedForMs) return false;
    const pid = Number(readFileSync(file, 'utf8'));
    // A file being written this instant (empty still) belongs to a live process.
    if (!Number.isInteger(pid) || pid <= 0) return true;
    return isAlive(pid);
  } catch {
    // Gone meanwhile: the next `wx` decides.
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
