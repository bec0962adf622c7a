/**
 * Whether a TCP port is free on one loopback address, found the only reliable way: bind it, and
 * release it at once. (Connecting would miss a server bound to another address of the host,
 * and `ss` output is not an interface.)
 */
import { createServer } from 'node:net';
import type { PortObservation } from '../domain/preflight/preflight-probe.js';

/** Bind errors that mean the host has no such address, so nothing can listen there either. */
const NO_SUCH_ADDRESS = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);

/** Tries to listen on `host:port` (not shared with other processes) and closes the socket again. */
export function probePort(host: string, port: number): Promise<PortObservation> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'EUNKNOWN';
      if (NO_SUCH_ADDRESS.has(code)) resolve({ host, port, state: 'unavailable', detail: code });
      // EADDRINUSE, and anything else that stops a bind (EACCES below 1024), stops the dev server too.
      else resolve({ host, port, state: 'in-use', detail: code });
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve({ host, port, state: 'free' }));
    });
  });
}
