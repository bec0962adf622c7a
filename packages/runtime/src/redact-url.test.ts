import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['nats://user:s3cret@127.0.0.1:4222', 'nats://user:***@127.0.0.1:4222'],
    ['postgres://maestro:s3cret@db:5432/maestro', 'postgres://maestro:***@db:5432/maestro'],
    ['redis://:s3cret@redis:6379/0', 'redis://:***@redis:6379/0'],
    ['nats://s3cret@nats:4222', 'nats://***@nats:4222'],
    ['postgres://db/app?sslmode=require&password=s3cret', 'postgres://db/app?sslmode=require&password=***'],
    // A lone user information may be a token (NATS) or a password (older Redis URLs): hidden.
    ['postgres://u@db/app?sslpassword=s3cret&application_name=x', 'postgres://***@db/app?sslpassword=***&application_name=x'],
    ['https://collector:4318/v1/traces?token=s3cret#x', 'https://collector:4318/v1/traces?token=***#x'],
  ])('redacts %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it.each([
    // Malformed: the URL parser refuses these, the text is redacted anyway.
    ['nats://user:s3cret@127.0.0.1:notaport', 'nats://user:***@127.0.0.1:notaport'],
    ['nats://user:s3/cr@t#x@127.0.0.1:4222', 'nats://user:***@127.0.0.1:4222'],
    ['postgres://user:s3cret@[::1', 'postgres://user:***@[::1'],
    ['user:s3cret@127.0.0.1:4222', 'user:***@127.0.0.1:4222'],
    ['nats://u:s3cret@bad host?token=s3cret', 'nats://u:***@bad host?token=***'],
  ])('redacts the malformed %s without throwing', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
    expect(redactUrl(url)).not.toContain('s3cret');
  });

  it('redacts each URL of a comma-separated list', () => {
    expect(redactUrl('nats://a:s3cret@n1:4222, nats://b:0ther@n2:4222,nats://n3:4222')).toBe(
      'nats://a:***@n1:4222, nats://b:***@n2:4222,nats://n3:4222',
    );
  });

  it('leaves URLs without credentials, and text that is no URL, as they are', () => {
    for (const text of ['nats://127.0.0.1:4222', 'postgres://db:5432/app?sslmode=require', '127.0.0.1:4222', '', 'not a url']) {
      expect(redactUrl(text)).toBe(text);
    }
  });
});
