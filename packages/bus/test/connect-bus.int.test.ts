/**
 * A NATS URL that cannot be used never shows its password: not in the error connectBus
 * throws, its cause, or the log line a service writes about it.
 */
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { createLogger } from '@maestro/runtime';
import { connectBus } from '@maestro/bus';

function capturingLogger(): { logger: ReturnType<typeof createLogger>; output: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { logger: createLogger({ service: 'bus-test', level: 'debug', destination }), output: () => chunks.join('') };
}

it.each([
  ['an unreachable URL', 'nats://user:s3cret@127.0.0.1:1'],
  ['a malformed URL', 'nats://user:s3cret@127.0.0.1:notaport'],
  ['a URL with an unescaped slash in the password', 'nats://user:s3/cret@127.0.0.1:1'],
])('connecting to %s fails without the password anywhere', async (_case, url) => {
  const { logger, output } = capturingLogger();
  const err: unknown = await connectBus({ url, name: 'bus-redaction-test', logger }).then(
    async (bus) => {
      await bus.close();
      throw new Error('expected the connection to fail');
    },
    (e: unknown) => e,
  );
  expect((err as Error).message).toMatch(/^cannot connect to NATS at nats:\/\/user:\*\*\*@127\.0\.0\.1:/);
  // What a service does with it: log it, error object (cause included) and stack.
  logger.error('failed to start', { err, stack: (err as Error).stack });
  const everything = `${output()}\n${inspect(err, { depth: 5 })}`;
  expect(output()).toContain('user:***@127.0.0.1');
  expect(everything).not.toContain('s3cret');
  expect(everything).not.toContain('s3/cret');
});
