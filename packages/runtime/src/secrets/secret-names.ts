/**
 * Which environment variables hold credentials, judged by name alone: the registry takes their
 * values as secrets without knowing what each service does with them.
 */

/** Name endings (or, for `PASSWORD`, a part anywhere in the name) that mark a credential. */
const secretName = /(?:_API_KEY|_TOKEN|_SECRET|_KEY|_CREDS|_CREDENTIALS|_PASS|_PASSWD)$|PASSWORD|^(?:API_KEY|TOKEN|SECRET|PASSWORD)$/;

/**
 * `*_KEY` variables that are not secret: public keys and key fingerprints, and names of things
 * (a Redis key prefix ends in `_PREFIX`, so it never matched). Checked before {@link secretName}.
 */
// `MAESTRO_GRPC_TLS_KEY` names the private key's FILE (its path is not the secret; the file is).
const notSecretName = /(?:_PUBLIC_KEY|^GPG_KEY|_KEY_ID|_KEY_NAME|_KEY_PREFIX|_KEY_PATH|_KEY_FILE|^MAESTRO_GRPC_TLS_KEY)$/;

/**
 * Whether the variable `name` holds a credential: it ends in `_API_KEY`, `_TOKEN`, `_SECRET`,
 * `_KEY`, `_CREDS`, `_CREDENTIALS`, `_PASS` or `_PASSWD`, or contains `PASSWORD` (case-insensitively), and is not
 * one of the known non-secrets (a `*_PUBLIC_KEY`, `GPG_KEY`, a `*_KEY_ID`, a key's path …).
 * Plurals such as `MAESTRO_TASK_BUDGET_TOKENS` are counts, not credentials, and do not match.
 *
 * @example
 * isSecretName('OPENAI_API_KEY'); // true
 * isSecretName('MAESTRO_TASK_BUDGET_TOKENS'); // false
 */
export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  return !notSecretName.test(upper) && secretName.test(upper);
}
