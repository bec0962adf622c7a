/**
 * The secrets one process holds and the redaction of their values out of any text that leaves
 * it: log lines, bus messages, prompts, error messages. Built once at start from the process's
 * environment (and its loaded config); secrets learned later are added with `register`.
 */
import { isSecretName } from './secret-names.js';
import { looksLikeUrl, urlCredentials } from './url-credentials.js';

/** Turns text that may hold a secret into text that does not. */
export interface Redactor {
  /** `text` with every known secret replaced by `[REDACTED:<NAME>]`. */
  redact(text: string): string;
}

/** A {@link Redactor} that changes nothing: the default where redaction is optional (tests, tools). */
export const noRedaction: Redactor = { redact: (text) => text };

/**
 * Values shorter than this are never taken as secrets: redacting `true`, `8080` or `admin`
 * everywhere would mangle ordinary text, and a credential that short protects nothing anyway.
 */
export const MIN_SECRET_LENGTH = 8;

/** The marker that replaces a secret registered under `name`. */
export function redactionMarker(name: string): string {
  return `[REDACTED:${name}]`;
}

/** Options for {@link createSecretRegistry}. */
export interface SecretRegistryOptions {
  /** Environment variables; those whose names mark credentials (see `isSecretName`) and the credentials of URL values are secrets. @default {} */
  env?: Readonly<Record<string, string | undefined>>;
  /** The service's loaded config: its URL-valued fields' credentials and the values of fields named like credentials (`apiKey`). @default {} */
  config?: Readonly<Record<string, unknown>>;
  /** Shorter values are ignored. @default MIN_SECRET_LENGTH (8) */
  minLength?: number;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `databaseUrl` → `DATABASE_URL`, so config field names are judged like variable names. */
const toConstantCase = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * The forms a secret may take in text besides itself, all redacted: escaped inside a JSON string
 * (a log line, a bus message), URL-encoded (a query string), and base64 (standard and URL-safe) of
 * the value on its own, as in a token a tool echoes. Base64 of a value inside a longer encoded
 * text (`user:password` in basic auth) is not recognised: its characters depend on what precedes it.
 */
function formsOf(value: string): string[] {
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  return [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), base64, base64.replace(/=+$/, ''), Buffer.from(value, 'utf8').toString('base64url')];
}

/**
 * The secrets of one process and their redaction (see the module comment). Every occurrence of a
 * secret, in any of its forms (see `formsOf`), becomes `[REDACTED:<NAME>]`, where the name is
 * the variable (or config field, or `register` name) it came from; longer secrets are matched
 * first, so one that contains another is replaced whole.
 */
export class SecretRegistry implements Redactor {
  /** Each form of each secret → the name it is redacted as; the first name registered wins. */
  private readonly names = new Map<string, string>();
  private pattern: RegExp | undefined;
  private dirty = false;

  constructor(private readonly minLength: number = MIN_SECRET_LENGTH) {}

  /**
   * Adds a secret learned at run time (a gateway API key, a token a request carried). Values
   * shorter than the minimum length are ignored; returns whether the value is now redacted.
   */
  register(value: string, name = 'SECRET'): boolean {
    if (typeof value !== 'string' || value.length < this.minLength) return false;
    for (const form of formsOf(value)) {
      if (form.length >= this.minLength && !this.names.has(form)) {
        this.names.set(form, name);
        this.dirty = true;
      }
    }
    return true;
  }

  /** Registers the credentials of `env` (see {@link SecretRegistryOptions.env}); returns this. */
  registerEnv(env: Readonly<Record<string, string | undefined>>): this {
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined) continue;
      if (isSecretName(name)) this.register(value, name);
      if (looksLikeUrl(value)) for (const credential of urlCredentials(value)) this.register(credential, name);
    }
    return this;
  }

  /** Registers the credentials of a loaded config (see {@link SecretRegistryOptions.config}); returns this. */
  registerConfig(config: Readonly<Record<string, unknown>>): this {
    for (const [field, value] of Object.entries(config)) {
      if (typeof value !== 'string') continue;
      if (isSecretName(toConstantCase(field))) this.register(value, field);
      if (looksLikeUrl(value)) for (const credential of urlCredentials(value)) this.register(credential, field);
    }
    return this;
  }

  /** How many distinct forms of secrets are known (each secret counts once per form). */
  get size(): number {
    return this.names.size;
  }

  redact(text: string): string {
    if (typeof text !== 'string' || this.names.size === 0) return text;
    const pattern = this.compiled();
    return text.replace(pattern, (found) => redactionMarker(this.names.get(found) ?? 'SECRET'));
  }

  private compiled(): RegExp {
    if (this.pattern === undefined || this.dirty) {
      // Longest first: an alternation takes the first branch that matches at a position.
      const forms = [...this.names.keys()].sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'g');
      this.dirty = false;
    }
    return this.pattern;
  }
}

/**
 * A registry holding the credentials of `env` and `config`. Pure: reads nothing but its options.
 *
 * @example
 * const secrets = createSecretRegistry({ env: { OPENAI_API_KEY: 'sk-live-0123456789' } });
 * secrets.redact('key=sk-live-0123456789'); // 'key=[REDACTED:OPENAI_API_KEY]'
 */
export function createSecretRegistry(options: SecretRegistryOptions = {}): SecretRegistry {
  return new SecretRegistry(options.minLength ?? MIN_SECRET_LENGTH).registerEnv(options.env ?? {}).registerConfig(options.config ?? {});
}

/**
 * `value` with every string in it redacted, through plain objects and arrays (a chat message, an
 * event payload); anything else (numbers, dates, buffers) is returned as it is. Never mutates.
 */
export function redactDeep<T>(redactor: Redactor, value: T): T {
  if (typeof value === 'string') return redactor.redact(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(redactor, item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(redactor, item)])) as T;
  }
  return value;
}
