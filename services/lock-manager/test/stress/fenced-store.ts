/**
 * A tiny storage service that takes writes only from the current lock holder, the two ways
 * Kleppmann's fencing asks for, both applied to every write:
 *
 * - **lock-manager check**: `CheckFence(lease_id, fencing_token)` must answer the lease (it
 *   refuses with `FENCED` / `LOCK_NOT_HELD` once the lease is no longer current);
 * - **storage-side check**: the store remembers the highest token it accepted and refuses an
 *   older one, which holds even if the lock-manager could not be asked.
 *
 * Writes are applied one at a time, so a check and the write it allows cannot interleave with
 * another write. Served over HTTP (`POST /write`) so a separate process can write to it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MaestroError } from '@maestro/runtime';

/** Error codes of the store's own refusals. */
export const FencedStoreErrorCodes = {
  /** The write's token is older than one the store already accepted. */
  staleToken: 'STALE_FENCING_TOKEN',
  /** The request body is not a write (a field is missing or of the wrong type). */
  invalidWrite: 'INVALID_WRITE',
} as const;

/** One write, as a writer sends it. */
export interface FencedWrite {
  leaseId: string;
  fencingToken: number;
  value: string;
}

/** Why a write was refused: who refused it, with the code and message they gave. */
export interface Refusal {
  by: 'lock-manager' | 'storage';
  code: string;
  message: string;
}

/** The outcome of one write. */
export type WriteVerdict = { accepted: true } | { accepted: false; refusals: Refusal[] };

/** Asks the lock-manager whether a lease and token are current; throws when not. */
export type FenceCheck = (leaseId: string, fencingToken: number) => Promise<unknown>;

/** The store: one value, the highest accepted token, and every verdict in order. */
export class FencedStore {
  /** The value of the last accepted write. */
  value: string | undefined;
  /** The highest token of an accepted write (0 before any). */
  highestToken = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly checkFence: FenceCheck) {}

  /** Applies `write` if both checks pass; resolves to the verdict either way. */
  write(write: FencedWrite): Promise<WriteVerdict> {
    const next = this.queue.then(() => this.apply(write));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(write: FencedWrite): Promise<WriteVerdict> {
    const refusals: Refusal[] = [];
    try {
      await this.checkFence(write.leaseId, write.fencingToken);
    } catch (err) {
      refusals.push({
        by: 'lock-manager',
        code: err instanceof MaestroError ? err.code : 'UNKNOWN',
        message: err instanceof Error ? err.message : String(err),
      });
    }
    if (write.fencingToken < this.highestToken) {
      refusals.push({
        by: 'storage',
        code: FencedStoreErrorCodes.staleToken,
        message: `fencing token ${write.fencingToken} is older than ${this.highestToken}, already accepted`,
      });
    }
    if (refusals.length > 0) return { accepted: false, refusals };
    this.highestToken = write.fencingToken;
    this.value = write.value;
    return { accepted: true };
  }
}

/** A {@link FencedStore} listening on 127.0.0.1. */
export interface FencedStoreServer {
  /** `http://127.0.0.1:<port>/write` */
  readonly writeUrl: string;
  close(): Promise<void>;
}

function toFencedWrite(body: unknown): FencedWrite {
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { leaseId, fencingToken, value } = record;
  if (typeof leaseId !== 'string' || leaseId === '') throw new Error('leaseId: must be a non-empty string');
  if (typeof fencingToken !== 'number' || !Number.isSafeInteger(fencingToken)) throw new Error('fencingToken: must be an integer');
  if (typeof value !== 'string') throw new Error('value: must be a string');
  return { leaseId, fencingToken, value };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/**
 * Serves `store` on 127.0.0.1 (a free port): `POST /write` with a {@link FencedWrite} as JSON
 * answers 200 `{ accepted: true }`, 409 `{ accepted: false, refusals }` or 400 naming the field.
 */
export async function startFencedStoreServer(store: FencedStore): Promise<FencedStoreServer> {
  const server: Server = createServer((request, response) => {
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/write') return reply(404, { error: 'POST /write only' });
    readJson(request)
      .then(toFencedWrite)
      .then(
        async (write) => {
          const verdict = await store.write(write);
          reply(verdict.accepted ? 200 : 409, verdict);
        },
        (err: unknown) => reply(400, { code: FencedStoreErrorCodes.invalidWrite, error: err instanceof Error ? err.message : String(err) }),
      )
      .catch((err: unknown) => reply(500, { error: err instanceof Error ? err.message : String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    writeUrl: `http://127.0.0.1:${port}/write`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
