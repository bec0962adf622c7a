/**
 * The raw gRPC status of a call that was meant to fail, for the transport tests: the runtime's
 * client wraps a failed call in a maestro error and keeps the grpc-js error as its cause.
 */
import type { ServiceError } from '@grpc/grpc-js';

/** The grpc-js error of a failed call; throws when the call succeeded. */
export async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e as Error & { cause?: ServiceError },
  );
  if (!err) throw new Error('the call succeeded');
  return (err.cause ?? err) as ServiceError;
}
