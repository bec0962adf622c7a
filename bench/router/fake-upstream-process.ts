/**
 * The upstream both paths of the router benchmark call: the fake OpenAI-compatible server
 * (`fake-upstream-main.js`) in a process of its own, as a real provider is elsewhere, so its
 * work is not counted against either client. It is not a model: it answers in well under a
 * millisecond, so what is measured is the client side — the openai SDK alone, or the router
 * around the same SDK. Only the process started here is ever signalled, by its own pid.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'fake-upstream-main.js');
const LISTENING = /fake upstream listening on (\S+)/;
const SERVED = /fake upstream served (\d+)/;

/** The running fake upstream. */
export interface FakeUpstreamProcess {
  /** The SDK's `baseURL` (`http://127.0.0.1:<port>/v1`). */
  readonly openaiBaseUrl: string;
  /** Stops the process (SIGTERM, SIGKILL after `graceMs`); resolves to the chat completions it answered, when it said. */
  stop(graceMs?: number): Promise<number | undefined>;
}

/** Starts the fake upstream and resolves once it listens; rejects when it exits first or `timeoutMs` passes. */
export async function startFakeUpstreamProcess(timeoutMs = 30_000): Promise<FakeUpstreamProcess> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let output = '';
  const openaiBaseUrl = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (url: string | undefined, why?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (url !== undefined) return resolve(url);
      child.kill('SIGKILL');
      reject(new Error(`fake upstream ${why}: node ${MAIN}\n${output}`));
    };
    const collect = (chunk: Buffer): void => {
      if (output.length < 20_000) output += chunk.toString('utf8');
      const url = LISTENING.exec(output)?.[1];
      if (url !== undefined) settle(url);
    };
    const timer = setTimeout(() => settle(undefined, `not listening after ${timeoutMs} ms`), timeoutMs);
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    void exited.then(() => settle(undefined, 'exited before it listened'));
  });
  return {
    openaiBaseUrl,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      const served = SERVED.exec(output)?.[1];
      return served === undefined ? undefined : Number(served);
    },
  };
}
