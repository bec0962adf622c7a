/**
 * The router and memory ports over gRPC clients whose calls an `AbortSignal` cancels. The
 * runtime's promise client knows deadlines only; a strategic model call may run for minutes,
 * and when the orchestrator's drain time is up the call must end now: the RPC is cancelled
 * (the router sees CANCELLED and stops paying for tokens) and the promise rejects with an
 * `OperationalError`, so the activity request is handed back to the queue.
 */
import type { CallOptions, ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import type { MemoryServiceClient, RouterServiceClient } from '@maestro/contracts';
import { fromGrpcError, OperationalError, SpanKind, withSpan, type GrpcClient } from '@maestro/runtime';
import type { MemoryPort, PortCallOptions, RouterPort } from '../../domain/ports.js';

/** Error code of a call cut short by its signal. */
export const CALL_ABORTED = 'CALL_ABORTED';

type StartCall<Res> = (
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

function aborted(method: string, reason: unknown): OperationalError {
  const why = reason instanceof Error ? reason.message : 'aborted';
  return new OperationalError(CALL_ABORTED, `${method}: call cancelled (${why})`, { cause: reason });
}

/** One unary call with a deadline, trace context, error mapping, and cancellation by signal. */
function abortableUnary<Res>(
  metadata: () => Metadata,
  method: string,
  start: StartCall<Res>,
  options: PortCallOptions,
  defaultDeadlineMs: number,
): Promise<Res> {
  const { signal } = options;
  return withSpan(`grpc.client ${method}`, { kind: SpanKind.CLIENT }, () =>
    new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) {
        reject(aborted(method, signal.reason));
        return;
      }
      let call: ClientUnaryCall | undefined;
      const onAbort = (): void => call?.cancel();
      const deadline = new Date(Date.now() + (options.deadlineMs ?? defaultDeadlineMs));
      call = start(metadata(), { deadline }, (err, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(signal?.aborted ? aborted(method, signal.reason) : fromGrpcError(err, method));
        else resolve(response);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  );
}

/** The router's Complete, cancellable; `defaultDeadlineMs` applies when a call names none. */
export function abortableRouterPort(client: GrpcClient<RouterServiceClient>, defaultDeadlineMs = 180_000): RouterPort {
  return {
    complete: (request, options = {}) =>
      abortableUnary(() => client.metadata(), 'complete', (md, o, cb) => client.raw.complete(request, md, o, cb), options, defaultDeadlineMs),
  };
}

/** The memory service's Recall, cancellable; `defaultDeadlineMs` applies when a call names none. */
export function abortableMemoryPort(client: GrpcClient<MemoryServiceClient>, defaultDeadlineMs = 10_000): MemoryPort {
  return {
    recall: (request, options = {}) =>
      abortableUnary(() => client.metadata(), 'recall', (md, o, cb) => client.raw.recall(request, md, o, cb), options, defaultDeadlineMs),
  };
}
