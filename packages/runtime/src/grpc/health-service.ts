/**
 * The standard `grpc.health.v1` service (Check, Watch, List), as Kubernetes probes, load
 * balancers and `grpc-health-probe` expect it. Written here rather than taken from
 * `grpc-health-check` because we also need List and grpc-go's Shutdown/Resume semantics:
 * after `shutdown()` every service reports NOT_SERVING and later `setStatus` calls are
 * ignored, so a draining process is taken out of rotation and stays out.
 */
import { status as GrpcStatus, type ServerWritableStream, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthListRequest,
  type HealthListResponse,
  type HealthServer,
} from '@maestro/contracts';

/** Serving states a service can be in (the proto enum). */
export { ServingStatus };

/** Most services a List call returns before answering RESOURCE_EXHAUSTED. */
const MAX_LIST_SERVICES = 100;

/** Holds the serving status of each service name ('' is the whole server) and serves it. */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<(status: ServingStatus) => void>>();
  private shutDown = false;

  constructor(initial: Record<string, ServingStatus> = {}) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  /** Sets a service's status and tells its watchers; ignored after `shutdown()`. */
  setStatus(service: string, status: ServingStatus): void {
    if (this.shutDown) return;
    this.update(service, status);
  }

  /** The current status, or undefined for a service never registered. */
  getStatus(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Marks every service NOT_SERVING and freezes the map until `resume()`. */
  shutdown(): void {
    this.shutDown = true;
    for (const service of this.statuses.keys()) this.update(service, ServingStatus.NOT_SERVING);
  }

  /** Undoes `shutdown()`: every service SERVING again. */
  resume(): void {
    this.shutDown = false;
    for (const service of this.statuses.keys()) this.update(service, ServingStatus.SERVING);
  }

  private update(service: string, status: ServingStatus): void {
    const previous = this.statuses.get(service);
    this.statuses.set(service, status);
    if (previous === status) return;
    for (const notify of this.watchers.get(service) ?? []) notify(status);
  }

  /** The grpc-js implementation of `grpc.health.v1.Health`. */
  implementation(): HealthServer {
    return {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) {
          callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service "${call.request.service}"` });
          return;
        }
        callback(null, { status });
      },
      list: (_call: ServerUnaryCall<HealthListRequest, HealthListResponse>, callback: sendUnaryData<HealthListResponse>) => {
        if (this.statuses.size > MAX_LIST_SERVICES) {
          callback({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: `more than ${MAX_LIST_SERVICES} services` });
          return;
        }
        const statuses: Record<string, HealthCheckResponse> = {};
        for (const [service, status] of this.statuses) statuses[service] = { status };
        callback(null, { statuses });
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const service = call.request.service;
        let last: ServingStatus | undefined;
        const send = (status: ServingStatus): void => {
          if (status === last) return;
          last = status;
          call.write({ status });
        };
        send(this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN);
        let set = this.watchers.get(service);
        if (!set) {
          set = new Set();
          this.watchers.set(service, set);
        }
        set.add(send);
        const stop = (): void => {
          set.delete(send);
        };
        call.on('cancelled', stop);
        call.on('close', stop);
        call.on('error', stop);
      },
    };
  }
}
