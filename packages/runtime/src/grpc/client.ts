/**
 * gRPC client helpers: a promise API over ts-proto's grpc-js clients with a deadline on every
 * call, trace context in metadata, and failures mapped back into the maestro error hierarchy.
 *
 * @example
 * const orchestrator = createGrpcClient(OrchestratorServiceClient, '127.0.0.1:50051', { security });
 * const task = await orchestrator.call.submitTask({ goal, repoPath, ... });
 */
import {
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { context } from '@opentelemetry/api';
import { OperationalError } from '../errors.js';
import { SpanKind, injectTraceContext, withSpan } from '../telemetry.js';
import { fromGrpcError } from './status-mapping.js';
import { toChannelCredentials } from './tls/credentials.js';
import { PLAINTEXT, type TransportSecurity } from './tls/transport-security.js';

/** The last (fullest) overload ts-proto generates for a unary method. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** Per-call options. */
export interface CallOpts {
  /** @default the client's `deadlineMs` */
  deadlineMs?: number;
  /**
   * Cancels the call when it aborts: the server sees CANCELLED (a model call stops costing
   * tokens) and the promise rejects with an `OperationalError` `CALL_ABORTED`.
   */
  signal?: AbortSignal;
}

/** Error code of a call cut short by its `signal`. */
export const CALL_ABORTED = 'CALL_ABORTED';

function aborted(method: string, reason: unknown): OperationalError {
  const why = reason instanceof Error ? reason.message : 'aborted';
  return new OperationalError(CALL_ABORTED, `${method}: call cancelled (${why})`, { cause: reason });
}

/** The promise form of every unary method of a ts-proto client. */
export type PromiseClient<C> = {
  [K in keyof C as C[K] extends UnaryMethod<never, unknown> ? K : never]: C[K] extends UnaryMethod<infer Req, infer Res>
    ? (request: Req, options?: CallOpts) => Promise<Res>
    : never;
};

/** Options for {@link createGrpcClient}. */
export interface GrpcClientOptions {
  /** Deadline for each call unless the call says otherwise. @default 10000 */
  deadlineMs?: number;
  channelOptions?: ChannelOptions;
  /**
   * mTLS (present this service's certificate, verify the server's against the CA and the
   * dialled host name) or plaintext, from `compileTransportSecurity(config)`. The server's
   * certificate must name the host dialled (its k8s Service name, or 127.0.0.1 in tests);
   * `channelOptions['grpc.ssl_target_name_override']` covers a dialled name it cannot carry.
   * @default PLAINTEXT (tests and local tools)
   */
  security?: TransportSecurity;
}

/** A connected client: promise calls, the raw client for streams, and close. */
export interface GrpcClient<C extends Client> {
  call: PromiseClient<C>;
  raw: C;
  /** Metadata carrying the current trace context, for raw streaming calls. */
  metadata(): Metadata;
  /** A deadline `ms` from now, for raw streaming calls. */
  deadline(ms?: number): Date;
  close(): void;
}

/** Creates a client for `address` (`host:port`) over the given transport security. */
export function createGrpcClient<C extends Client>(
  Ctor: new (address: string, creds: ChannelCredentials, options?: ChannelOptions) => C,
  address: string,
  options: GrpcClientOptions = {},
): GrpcClient<C> {
  const raw = new Ctor(address, toChannelCredentials(options.security ?? PLAINTEXT), {
    'grpc.keepalive_time_ms': 30_000,
    ...options.channelOptions,
  });
  const defaultDeadline = options.deadlineMs ?? 10_000;
  const metadata = (): Metadata => {
    const md = new Metadata();
    injectTraceContext({
      get: (key) => {
        const v = md.get(key)[0];
        return typeof v === 'string' ? v : undefined;
      },
      set: (key, value) => md.set(key, value),
    }, context.active());
    return md;
  };
  const call = new Proxy({} as PromiseClient<C>, {
    get(_target, property) {
      if (typeof property !== 'string') return undefined;
      const method = (raw as unknown as Record<string, unknown>)[property];
      if (typeof method !== 'function') return undefined;
      return (request: unknown, callOptions: CallOpts = {}) =>
        withSpan(`grpc.client ${property}`, { kind: SpanKind.CLIENT }, () =>
          new Promise((resolve, reject) => {
            const { signal } = callOptions;
            if (signal?.aborted) {
              reject(aborted(property, signal.reason));
              return;
            }
            const deadline = new Date(Date.now() + (callOptions.deadlineMs ?? defaultDeadline));
            const onAbort = (): void => call.cancel();
            const call = (method as UnaryMethod<unknown, unknown>).call(raw, request, metadata(), { deadline }, (err, response) => {
              signal?.removeEventListener('abort', onAbort);
              if (err) reject(signal?.aborted ? aborted(property, signal.reason) : fromGrpcError(err, property));
              else resolve(response);
            });
            signal?.addEventListener('abort', onAbort, { once: true });
          }),
        );
    },
  });
  return {
    call,
    raw,
    metadata,
    deadline: (ms = defaultDeadline) => new Date(Date.now() + ms),
    close: () => raw.close(),
  };
}
