/**
 * gRPC server request durations: one histogram, labelled by service, method and status code
 * (the go-grpc-prometheus label names, so existing dashboards fit). The runtime's gRPC server
 * observes every call through it; handlers do nothing.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Histogram, Registry } from 'prom-client';
import { defineHistogram } from './registry.js';

/** Label names of {@link grpcServerHistogram}. */
export type GrpcServerLabel = 'grpc_service' | 'grpc_method' | 'grpc_code';

/** The histogram of handled gRPC calls on `registry`. */
export function grpcServerHistogram(registry: Registry): Histogram<GrpcServerLabel> {
  return defineHistogram(registry, {
    name: 'maestro_grpc_server_handling_seconds',
    help: 'Time from receiving a gRPC call to its final status, by service, method and status code.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
  });
}

/** `/maestro.v1.LockService/Acquire` → service `maestro.v1.LockService`, method `Acquire`. */
export function splitGrpcPath(path: string): { grpc_service: string; grpc_method: string } {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? { grpc_service: match[1]!, grpc_method: match[2]! } : { grpc_service: 'unknown', grpc_method: path };
}

/** The status name (`OK`, `FAILED_PRECONDITION`, …) of a numeric gRPC status code. */
export function grpcCodeName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string | undefined>)[code] ?? String(code);
}
