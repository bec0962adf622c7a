/**
 * Credentials out of logged URLs. Connection URLs carry passwords (`nats://user:pass@host`,
 * `postgres://…?password=…`), and the moments we log them — malformed, unreachable — are the
 * moments an operator pastes the log into a ticket.
 */

/** Query parameters whose value is a secret (matched case-insensitively, anywhere in the name). */
const secretParameter = /[?&;]([^=&#;\s]*(?:pass|pwd|token|secret|auth|api_?key|credential|signature)[^=&#;\s]*)=([^&#;\s]*)/gi;

/** Where the next URL of a comma-separated list (`nats://a,nats://b`) starts. */
const listSeparator = /,(?=\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)/;

const schemePrefix = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * `url` with its credentials replaced by `***`: the password of `user:password@` (the user
 * stays: it helps and is not secret), a lone `token@` entirely (a NATS token; in some Redis
 * URLs, a password), and the values of query parameters such as `password=`, `sslpassword=`
 * or `token=`. A URL that
 * parses is redacted as the URL parser reads it; a malformed one (the case worth logging) by
 * its text, taking everything before its last `@` as user information, so a password with an
 * unescaped `@`, `/` or `#` is hidden too (with the host, when a path also holds an `@`).
 * Never throws. A comma-separated list is redacted URL by URL.
 *
 * @example
 * redactUrl('nats://maestro:s3cret@nats:4222');              // 'nats://maestro:***@nats:4222'
 * redactUrl('nats://maestro:s3/cret@nats:4222');             // 'nats://maestro:***@nats:4222' (malformed)
 * redactUrl('postgres://db/app?sslmode=require&password=x'); // 'postgres://db/app?sslmode=require&password=***'
 */
export function redactUrl(url: string): string {
  if (typeof url !== 'string') return String(url);
  return url
    .split(listSeparator)
    .map((one) => redactQuery(redactUserInfo(one)))
    .join(',');
}

function redactUserInfo(url: string): string {
  const scheme = schemePrefix.exec(url);
  if (scheme) {
    try {
      const parsed = new URL(url.trim());
      if (parsed.password !== '') parsed.password = '***';
      else if (parsed.username !== '') parsed.username = '***';
      else return url;
      return `${url.slice(0, url.length - url.trimStart().length)}${parsed.toString()}`;
    } catch {
      // Malformed: redact by the text below.
    }
  }
  const at = url.lastIndexOf('@');
  const start = scheme ? scheme[0].length : url.length - url.trimStart().length;
  if (at < start) return url;
  const userInfo = url.slice(start, at);
  const colon = userInfo.indexOf(':');
  // No colon: the whole user information is a token. A colon: keep the user name.
  const redacted = colon < 0 ? '***' : `${userInfo.slice(0, colon)}:***`;
  return `${url.slice(0, start)}${redacted}${url.slice(at)}`;
}

function redactQuery(url: string): string {
  return url.replace(secretParameter, (match, _name: string, value: string) =>
    value === '' ? match : `${match.slice(0, match.length - value.length)}***`,
  );
}
