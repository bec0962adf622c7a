import { grpcCodeName, splitGrpcPath } from './grpc-metrics.js';

describe('gRPC metric labels', () => {
  it('split a call path into service and method', () => {
    expect(splitGrpcPath('/maestro.v1.LockService/Acquire')).toEqual({ grpc_service: 'maestro.v1.LockService', grpc_method: 'Acquire' });
    expect(splitGrpcPath('odd')).toEqual({ grpc_service: 'unknown', grpc_method: 'odd' });
  });

  it('name status codes as gRPC does', () => {
    expect(grpcCodeName(0)).toBe('OK');
    expect(grpcCodeName(9)).toBe('FAILED_PRECONDITION');
    expect(grpcCodeName(99)).toBe('99');
  });
});
