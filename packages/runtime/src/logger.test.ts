import { PassThrough } from 'node:stream';
import { createLogger } from './logger.js';
import { createSecretRegistry } from './secrets/secret-registry.js';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, lines: () => chunks.join('').split('\n').filter((line) => line !== '') };
}

describe('createLogger redaction', () => {
  const canary = 'sk-canary-logger-0123456789';
  const redactor = createSecretRegistry({ env: { OPENAI_API_KEY: canary, MAESTRO_DATABASE_URL: 'postgres://postgres:canarypw-log@db/app' } });

  it('redacts secrets in the message, fields, bindings and logged errors, and keeps each line JSON', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ service: 'test', destination: stream, redactor }).child({ bound: `binding ${canary}` });
    const err = new Error(`connect failed with key ${canary} and password canarypw-log`);
    logger.error(`message ${canary}`, { err, output: `OPENAI_API_KEY=${canary}\n`, nested: { quoted: `"${canary}"` } });
    const [line] = lines();
    expect(line).toBeDefined();
    expect(line).not.toContain(canary);
    expect(line).not.toContain('canarypw-log');
    const parsed = JSON.parse(line ?? '{}') as { msg: string; bound: string; output: string; err: { message: string; stack: string }; nested: { quoted: string } };
    expect(parsed.msg).toBe('message [REDACTED:OPENAI_API_KEY]');
    expect(parsed.bound).toBe('binding [REDACTED:OPENAI_API_KEY]');
    expect(parsed.output).toBe('OPENAI_API_KEY=[REDACTED:OPENAI_API_KEY]\n');
    expect(parsed.nested.quoted).toBe('"[REDACTED:OPENAI_API_KEY]"');
    expect(parsed.err.message).toBe('connect failed with key [REDACTED:OPENAI_API_KEY] and password [REDACTED:MAESTRO_DATABASE_URL]');
    expect(parsed.err.stack).toContain('[REDACTED:OPENAI_API_KEY]');
  });

  it('redacts a secret registered after the logger was made', () => {
    const { stream, lines } = capture();
    const secrets = createSecretRegistry();
    const logger = createLogger({ service: 'test', destination: stream, redactor: secrets });
    secrets.register('mgw-runtime-key-1', 'GATEWAY_API_KEY');
    logger.info('request', { key: 'mgw-runtime-key-1' });
    expect(JSON.parse(lines()[0] ?? '{}')).toMatchObject({ key: '[REDACTED:GATEWAY_API_KEY]' });
  });
});
