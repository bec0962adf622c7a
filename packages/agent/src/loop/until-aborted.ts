/** Waiting for a promise no longer than a signal allows. */

/**
 * `promise`, or a rejection with the signal's reason as soon as `signal` aborts, so a call that
 * ignores its signal cannot hold the loop past its budget (its late result is dropped).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolvePromise, rejectPromise) => {
    const onAbort = (): void => rejectPromise(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        rejectPromise(err);
      },
    );
  });
}
