/**
 * Bounds a call by the service's clock: the call gets an AbortSignal, and if it has not settled
 * after `ms` it is aborted and the promise rejects with an `OperationalError`, even when the
 * callee ignores its signal. Used for embedder calls, so a provider that hangs costs recall its
 * vector half, never the whole request.
 */
import { OperationalError } from '@maestro/runtime';
import type { Clock } from '@maestro/runtime';
import { MemoryErrorCodes } from '../domain/memory-error-codes.js';

/** Runs `call`, rejecting with `code` once `ms` of `clock` time has passed. */
export async function withDeadline<T>(
  clock: Clock,
  ms: number,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let expire: (err: OperationalError) => void = () => undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    expire = reject;
  });
  const timer = clock.setTimer(ms, () => {
    const err = new OperationalError(MemoryErrorCodes.embedderTimeout, `${what} did not answer within ${ms} ms`);
    controller.abort(err);
    expire(err);
  });
  try {
    return await Promise.race([call(controller.signal), expired]);
  } finally {
    timer.cancel();
  }
}
