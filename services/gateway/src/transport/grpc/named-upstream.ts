/**
 * Names the service behind a promise client in its transient failures, so a caller of the
 * public API reads "orchestrator is unavailable (…)" rather than a bare gRPC transport message.
 */
import { OperationalError } from '@maestro/runtime';

/**
 * Wraps every method of `client` (a `createGrpcClient(...).call`) so an OperationalError it
 * throws says which upstream failed. Other errors pass through unchanged: a UserError from
 * upstream is the caller's business, not the upstream's health.
 */
export function namedUpstream<T extends object>(name: string, client: T): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          if (err instanceof OperationalError) {
            throw new OperationalError(err.code, `${name} is unavailable (${err.message})`, { cause: err });
          }
          throw err;
        }
      };
    },
  });
}
