import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canListen, freePort, reservationDir, reservePort } from './free-port.js';

/** Ports outside the range freePort hands out, so no real cluster on this machine is disturbed. */
const TEST_PORTS = [19_901, 19_902, 19_903, 19_904];

describe('port reservations shared by every process choosing ports', () => {
  const files = TEST_PORTS.map((port) => join(reservationDir(), String(port)));
  afterEach(() => files.forEach((file) => rmSync(file, { force: true })));

  it("skips a port another live process reserved, and takes one whose process is gone or whose reservation is old", () => {
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(files[0]!, String(other.pid));
      expect(reservePort(TEST_PORTS[0]!)).toBe(false);

      const gone = spawnSync('true').pid;
      writeFileSync(files[1]!, String(gone));
      expect(reservePort(TEST_PORTS[1]!)).toBe(true);
      expect(readFileSync(files[1]!, 'utf8')).toBe(String(process.pid));

      writeFileSync(files[2]!, String(other.pid));
      const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
      utimesSync(files[2]!, elevenMinutesAgo, elevenMinutesAgo);
      expect(reservePort(TEST_PORTS[2]!)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('never reserves one port twice, even for this process', () => {
    expect(reservePort(TEST_PORTS[3]!)).toBe(true);
    expect(reservePort(TEST_PORTS[3]!)).toBe(false);
  });

  it('hands out a port that can be listened on and is reserved for this process', async () => {
    const port = await freePort();
    expect(await canListen(port)).toBe(true);
    const file = join(reservationDir(), String(port));
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    rmSync(file, { force: true });
  });
});
