/**
 * Secrets out of everything a process sends out: which values are secret (by variable name, and
 * the credentials of connection URLs), and their redaction to `[REDACTED:<NAME>]`.
 *
 * @example
 * const secrets = createSecretRegistry({ env: process.env, config });
 * logger.info('tool output', { output: secrets.redact(output) });
 */
export { isSecretName } from './secret-names.js';
export { urlCredentials } from './url-credentials.js';
export {
  SecretRegistry,
  createSecretRegistry,
  redactDeep,
  redactionMarker,
  noRedaction,
  MIN_SECRET_LENGTH,
  type Redactor,
  type SecretRegistryOptions,
} from './secret-registry.js';
export { processSecrets } from './process-secrets.js';
