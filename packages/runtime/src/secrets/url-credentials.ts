/**
 * The secret parts of a connection URL: what `redactUrl` hides when it logs one, returned as
 * values so the registry can find them anywhere else they turn up.
 */

const schemePrefix = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Where the next URL of a comma-separated list (`nats://a,nats://b`) starts. */
const listSeparator = /,(?=\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)/;

/** Query parameters whose value is a secret, as `redactUrl` judges them. */
const secretParameter = /(?:pass|pwd|token|secret|auth|api_?key|credential|signature)/i;

/**
 * Schemes whose lone user information (`nats://token@host`) is a token. Elsewhere it is a user
 * name (`postgres://postgres@db`), which is not secret and would redact every mention of the user.
 */
const tokenSchemes = new Set(['nats:', 'tls:', 'ws:', 'wss:']);

/** Whether `value` starts like a URL with a scheme (`postgres://…`). */
export function looksLikeUrl(value: string): boolean {
  return schemePrefix.test(value);
}

/**
 * The credentials in `value` when it is a URL (or a comma-separated list of them): the password
 * of `user:password@` (the user name is not secret), a lone `token@` of a NATS URL, and the values of query
 * parameters such as `password=` or `token=`, each as written and decoded. Empty for anything
 * else. A URL the parser refuses is read by its text (everything before the last `@` is user
 * information), as `redactUrl` does. Never throws.
 *
 * @example
 * urlCredentials('postgres://maestro:s3cret@db/app'); // ['s3cret']
 */
export function urlCredentials(value: string): string[] {
  if (!looksLikeUrl(value)) return [];
  const found = new Set<string>();
  for (const url of value.split(listSeparator)) {
    for (const credential of credentialsOfOne(url.trim())) {
      if (credential !== '') found.add(credential);
    }
  }
  return [...found];
}

function credentialsOfOne(url: string): string[] {
  const found: string[] = [];
  try {
    const parsed = new URL(url);
    const userInfo = parsed.password !== '' ? parsed.password : tokenSchemes.has(parsed.protocol) ? parsed.username : '';
    found.push(userInfo, decoded(userInfo));
    for (const [name, parameter] of parsed.searchParams) {
      if (secretParameter.test(name)) found.push(parameter);
    }
    return found;
  } catch {
    // Malformed: read the user information by its text.
  }
  const start = schemePrefix.exec(url)?.[0].length ?? 0;
  const at = url.lastIndexOf('@');
  if (at <= start) return found;
  const userInfo = url.slice(start, at);
  const colon = userInfo.indexOf(':');
  const scheme = (schemePrefix.exec(url)?.[0] ?? '').trim().replace(/\/\/$/, '').toLowerCase();
  const secret = colon >= 0 ? userInfo.slice(colon + 1) : tokenSchemes.has(scheme) ? userInfo : '';
  return [secret, decoded(secret)];
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
