/**
 * gRPC server helpers: one `GrpcServer` per service, with `grpc.health.v1` built in, and
 * handler adapters (`unary`, `serverStream`) that give handlers a promise-based signature, a
 * per-call child logger bound to the method and trace id, a span, one refusal of NUL characters
 * in any request field (INVALID_ARGUMENT naming the proto field), the single error →
 * status translation, and the call's duration in `maestro_grpc_server_handling_seconds` by
 * method and status code. Handlers throw maestro errors; they never build statuses.
 *
 * Over mTLS (`security` from `compileTransportSecurity`) every call of an added service is
 * checked against the service-callers table by the caller's certificate identity before its
 * handler runs: a caller the table does not allow gets PERMISSION_DENIED naming it and the
 * method. Health is never checked: any peer with a certificate of the CA may probe it.
 *
 * @example
 * const server = createGrpcServer({ address: '127.0.0.1:50053', logger, serviceName: 'maestro.v1.RouterService' });
 * server.add(RouterServiceService, { route: unary(async (req, ctx) => decide(req)) , ... });
 * await server.start();
 */
import {
  Metadata as GrpcMetadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthService as HealthServiceDefinition } from '@maestro/contracts';
import { toMaestroError } from '../errors.js';
import { protoFieldName, rejectNulCharacters } from '../reject-nul-characters.js';
import { createSilentLogger, type Logger } from '../logger.js';
import { grpcCodeName, grpcServerHistogram, splitGrpcPath, type GrpcServerLabel } from '../metrics/grpc-metrics.js';
import { processRegistry, type Histogram, type Registry } from '../metrics/registry.js';
import { extractTraceContext, SpanKind, traceIdOf, withSpan, type HeaderCarrier } from '../telemetry.js';
import { HealthService, ServingStatus } from './health-service.js';
import { ErrorMetadataKeys, toGrpcStatus } from './status-mapping.js';
import { toServerCredentials } from './tls/credentials.js';
import { checkCaller } from './tls/service-callers.js';
import { identityOf } from './tls/service-identity.js';
import { PLAINTEXT, PLAINTEXT_WARNING, type TransportSecurity } from './tls/transport-security.js';

/** What a handler gets besides its request. */
export interface CallContext {
  /** Bound to the RPC method and trace id. */
  logger: Logger;
  metadata: Metadata;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
  /** The caller's certificate identity (`executor`, `gateway` …); undefined over plaintext. */
  caller?: string;
}

/** Options for {@link createGrpcServer}. */
export interface GrpcServerOptions {
  /** `host:port` to bind; port 0 picks a free one (see `start()`'s result). */
  address: string;
  logger: Logger;
  /** The fully qualified gRPC service name(s) reported by health besides ''. */
  serviceNames: string[];
  /** How long `shutdown()` lets in-flight calls finish before cancelling them. @default 10000 */
  shutdownGraceMs?: number;
  /** Where call durations are recorded. @default processRegistry() */
  metrics?: Registry;
  /**
   * mTLS (with the caller check) or plaintext, from `compileTransportSecurity(config)`; every
   * service passes its own. @default PLAINTEXT (tests and local tools)
   */
  security?: TransportSecurity;
  /**
   * A second, plaintext port on the same host serving only `grpc.health.v1` (the same
   * statuses): kubelet's native gRPC probes cannot present a client certificate, so under
   * mTLS they probe here. 0 or absent: no such port. @default 0
   */
  healthPort?: number;
}

/** Error code (in `maestro-error-code`) of a call refused by the service-callers table. */
export const CALLER_NOT_ALLOWED = 'CALLER_NOT_ALLOWED';

const loggers = new WeakMap<object, Logger>();
const durations = new WeakMap<object, Histogram<GrpcServerLabel>>();
const callers = new WeakMap<object, string>();

/** The peer certificate's identity of a call over TLS. */
function callerOf(call: { getAuthContext?: () => { sslPeerCertificate?: Parameters<typeof identityOf>[0] } | null }): string | undefined {
  return identityOf(call.getAuthContext?.()?.sslPeerCertificate);
}

function permissionDenied(reason: string): { code: GrpcStatus; details: string; metadata: GrpcMetadata } {
  const metadata = new GrpcMetadata();
  metadata.set(ErrorMetadataKeys.code, CALLER_NOT_ALLOWED);
  return { code: GrpcStatus.PERMISSION_DENIED, details: reason, metadata };
}

function metadataCarrier(metadata: Metadata): HeaderCarrier {
  return {
    get: (key) => {
      const value = metadata.get(key)[0];
      return typeof value === 'string' ? value : undefined;
    },
    set: (key, value) => metadata.set(key, value),
  };
}

function callLogger(call: { getPath(): string }): Logger {
  // Set by GrpcServer.add for every wrapped handler; the fallback is never reached in practice.
  return loggers.get(call as object) ?? fallbackLogger;
}

const fallbackLogger: Logger = createSilentLogger();

function abortSignalFor(call: { on(event: 'cancelled', listener: () => void): unknown }): AbortSignal {
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort(new Error('call cancelled by client')));
  return controller.signal;
}

function logFailure(logger: Logger, err: unknown): void {
  const error = toMaestroError(err);
  const fields = { ...error.details, code: error.code, field: error.field, err: error.cause ?? error };
  if (error.kind === 'user') logger.info('call rejected', { ...error.details, code: error.code, field: error.field, message: error.message });
  else if (error.kind === 'operational') logger.warn('call failed (transient)', fields);
  else logger.error('call failed', fields);
}

async function traced<T>(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
  fn: (ctx: CallContext) => Promise<T>,
): Promise<T> {
  const method = call.getPath();
  const parent = extractTraceContext(metadataCarrier(call.metadata));
  const endTimer = durations.get(call)?.startTimer(splitGrpcPath(method));
  const observed = withSpan(method, { kind: SpanKind.SERVER, parent, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } }, (span) => {
    const caller = callers.get(call);
    const logger = callLogger(call).child({ method, traceId: traceIdOf(span), ...(caller !== undefined ? { caller } : {}) });
    // PostgreSQL refuses NUL in text: every request is checked once here, whatever it stores.
    const checked = (async () => {
      rejectNulCharacters(call.request, '', protoFieldName);
      return fn({ logger, metadata: call.metadata, signal: abortSignalFor(call), ...(caller !== undefined ? { caller } : {}) });
    })();
    return checked.catch((err: unknown) => {
      logFailure(logger, err);
      throw err;
    });
  });
  if (!endTimer) return observed;
  return observed.then(
    (result) => {
      endTimer({ grpc_code: 'OK' });
      return result;
    },
    (err: unknown) => {
      endTimer({ grpc_code: grpcCodeName(toGrpcStatus(err).code) });
      throw err;
    },
  );
}

/** Adapts a promise-returning function into a grpc-js unary handler. */
export function unary<Req, Res>(fn: (request: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    traced(call as ServerUnaryCall<unknown, unknown>, (ctx) => fn(call.request, ctx)).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toGrpcStatus(err)),
    );
  };
}

/**
 * Adapts a function that sends messages into a grpc-js server-streaming handler. The stream
 * ends when the promise resolves; a rejection ends it with the mapped status.
 */
export function serverStream<Req, Res>(
  fn: (request: Req, ctx: CallContext, send: (message: Res) => void) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    traced(call as ServerWritableStream<unknown, unknown>, (ctx) =>
      fn(call.request, ctx, (message) => {
        if (!call.cancelled) call.write(message);
      }),
    ).then(
      () => call.end(),
      (err: unknown) => call.emit('error', toGrpcStatus(err)),
    );
  };
}

/** A service's gRPC server: its RPCs plus health, with graceful shutdown. */
export class GrpcServer {
  readonly health: HealthService;
  private readonly server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  private healthOnly: Server | undefined;
  private boundPort: number | undefined;
  private readonly durations: Histogram<GrpcServerLabel>;
  private readonly security: TransportSecurity;

  constructor(private readonly options: GrpcServerOptions) {
    this.security = options.security ?? PLAINTEXT;
    this.health = new HealthService();
    this.durations = grpcServerHistogram(options.metrics ?? processRegistry());
    this.server.addService(HealthServiceDefinition, this.health.implementation() as unknown as UntypedServiceImplementation);
  }

  /**
   * Registers a service; every handler gets a child logger of this server's logger. Over mTLS
   * each call is first checked against the service-callers table.
   */
  add<S extends UntypedServiceImplementation>(definition: ServiceDefinition, implementation: S): this {
    const wrapped: UntypedServiceImplementation = {};
    const checked = this.security.mode === 'mtls';
    for (const [name, handler] of Object.entries(implementation)) {
      const path = definition[name]?.path ?? name;
      wrapped[name] = ((call: object, callback?: (err: unknown) => void) => {
        if (checked) {
          const caller = callerOf(call);
          const decision = checkCaller(path, caller);
          if (!decision.allowed) {
            this.options.logger.warn('call refused: caller not allowed', { method: path, caller, reason: decision.reason });
            const status = permissionDenied(decision.reason);
            if (callback) callback(status);
            else (call as { emit(event: 'error', err: unknown): void }).emit('error', status);
            return;
          }
          if (caller !== undefined) callers.set(call, caller);
        }
        loggers.set(call, this.options.logger);
        durations.set(call, this.durations);
        return (handler as (call: object, callback?: unknown) => void)(call, callback);
      }) as UntypedServiceImplementation[string];
    }
    this.server.addService(definition, wrapped);
    return this;
  }

  /** Binds and starts serving; health turns SERVING. Resolves to the bound port. */
  async start(): Promise<number> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(this.options.address, toServerCredentials(this.security), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });
    this.boundPort = port;
    await this.startHealthPort();
    for (const name of ['', ...this.options.serviceNames]) this.health.setStatus(name, ServingStatus.SERVING);
    if (this.security.mode === 'plaintext') {
      this.options.logger.warn(PLAINTEXT_WARNING, { address: this.options.address, callerCheck: false });
    }
    this.options.logger.info('grpc server listening', {
      address: this.options.address,
      port,
      transport: this.security.mode,
      ...(this.security.mode === 'mtls' ? { identity: this.security.identity } : {}),
    });
    return port;
  }

  /** Binds the plaintext health-only port, if one is configured. */
  private async startHealthPort(): Promise<void> {
    const healthPort = this.options.healthPort ?? 0;
    if (healthPort === 0) return;
    const host = this.options.address.slice(0, this.options.address.lastIndexOf(':'));
    const address = `${host}:${healthPort}`;
    const server = new Server();
    server.addService(HealthServiceDefinition, this.health.implementation() as unknown as UntypedServiceImplementation);
    await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    this.healthOnly = server;
    this.options.logger.info('grpc health port listening (plaintext, health only)', { address });
  }

  /** The bound port (after `start()`). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('GrpcServer.port read before start()');
    return this.boundPort;
  }

  /**
   * Reports NOT_SERVING, lets in-flight calls finish for the grace period, then cancels the
   * rest.
   */
  async shutdown(): Promise<void> {
    this.health.shutdown();
    const grace = this.options.shutdownGraceMs ?? 10_000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, grace);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    // Probes see NOT_SERVING until the main port has drained.
    this.healthOnly?.forceShutdown();
  }
}

/** Creates a service's gRPC server (not yet listening). */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  return new GrpcServer(options);
}
