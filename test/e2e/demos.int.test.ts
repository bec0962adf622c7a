/**
 * The demos the README promises, run as a user runs them (the services as processes):
 * `maestro demo --wire` (the gemini and deepseek adapters talking to local fake servers over
 * the real wire formats) and `maestro demo --scenario escalation` (a subtask fails twice,
 * escalates, the strategic hint fixes it). Each must pass and say that no model answered, with
 * the gateway's authentication on and the agents' commands in the bubblewrap sandbox.
 */
import { resolve } from 'node:path';
import { runDemo } from '@maestro/cli';
import { testServerUrl } from '@maestro/testing';

jest.setTimeout(300_000);

const root = resolve(__dirname, '../..');

async function demo(options: { wire?: boolean; scenario?: 'default' | 'escalation' }): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  const ok = await runDemo({
    root,
    natsUrl: 'nats://127.0.0.1:4222',
    postgresUrl: testServerUrl(),
    redisUrl: 'redis://127.0.0.1:6379',
    executors: 2,
    out: (line) => lines.push(line),
    ...options,
  });
  return { ok, lines };
}

it('maestro demo --wire passes through the real gemini and deepseek adapters, labelled as not a model', async () => {
  const { ok, lines } = await demo({ wire: true });
  const text = lines.join('\n');
  expect(text).toContain('DEMO PASSED');
  expect(ok).toBe(true);
  expect(text).toMatch(/gemini:gemini-2\.5-pro through @google\/genai → fake Gemini server/);
  expect(text).toMatch(/deepseek:deepseek-chat through the openai SDK → fake DeepSeek server/);
  expect(text).toContain('NOT a model');
  // Every model step says it was scripted, and the usage shows both adapters served calls, free.
  expect(lines.filter((l) => / step \d+ model: /.test(l)).every((l) => l.includes('[scripted]'))).toBe(true);
  expect(text).toMatch(/deepseek:deepseek-chat: \d+ calls, \$0\.0000/);
  expect(text).toMatch(/gemini:gemini-2\.5-pro: \d+ calls, \$0\.0000/);
});

it('maestro demo --scenario escalation passes, and its outcome lists the escalation and the hint', async () => {
  const { ok, lines } = await demo({ scenario: 'escalation' });
  const text = lines.join('\n');
  expect(text).toContain('DEMO PASSED');
  expect(ok).toBe(true);
  expect(text).toMatch(/escalations:\s*\n\s+\S+ attempt \d+ \(\w+\) → hint: /);
  // With authentication on and every command sandboxed (the test gate ran in bubblewrap).
  expect(text).toContain('authentication on: GET /v1/tasks without a key → HTTP 401');
  expect(text).toMatch(/commands: command sandbox: bubblewrap, network none; limits: .*processes 1024/);
});
