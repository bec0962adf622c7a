/**
 * The one registry of the running process: the default redactor of its logger, its bus and its
 * error mapping, so a service is covered without wiring and a secret registered at run time is
 * redacted everywhere at once.
 */
import { SecretRegistry } from './secret-registry.js';

let registry: SecretRegistry | undefined;

/**
 * This process's {@link SecretRegistry}, built from `process.env` on first use (the config is
 * loaded from the same variables, so its credentials are in it). Services that hold other
 * secrets (`loadConfig` defaults, keys read from a store) add them with `register` or
 * `registerConfig`.
 */
export function processSecrets(): SecretRegistry {
  registry ??= new SecretRegistry().registerEnv(process.env);
  return registry;
}
