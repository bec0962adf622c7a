import { PassThrough, Readable } from 'node:stream';
import { runIntentCommand, type IntentCommandIo } from './intent-command.js';

interface Run {
  code: number;
  out: string[];
  err: string;
}

async function run(args: string[], input = ''): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: string[] = [];
  const errs: string[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  stderr.on('data', (c: Buffer) => errs.push(c.toString('utf8')));
  const io: IntentCommandIo = { stdin: Readable.from([input]), stdout, stderr };
  const code = await runIntentCommand(args, io);
  const text = chunks.join('');
  return { code, out: text === '' ? [] : text.trimEnd().split('\n'), err: errs.join('') };
}

describe('maestro intent', () => {
  it('classifies its argument and prints one JSON line', async () => {
    const { code, out, err } = await run(['fix the crash when the config file is missing']);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['text', 'intent', 'confidence', 'reason']);
    expect(line).toMatchObject({ text: 'fix the crash when the config file is missing', intent: 'fix' });
    expect(line['confidence']).toEqual(expect.any(Number));
    expect(line['reason']).toEqual(expect.any(String));
  });

  it('classifies each non-empty line of standard input, in order', async () => {
    const input = 'add unit tests for the lease renewal\n\n   \r\nwhat does the orchestrator do?\r\nbump node to 22 in the CI workflow';
    for (const args of [[], ['-']]) {
      const { code, out } = await run(args, input);
      expect(code).toBe(0);
      expect(out.map((l) => JSON.parse(l) as { text: string; intent: string })).toEqual([
        expect.objectContaining({ text: 'add unit tests for the lease renewal', intent: 'test' }),
        expect.objectContaining({ text: 'what does the orchestrator do?', intent: 'explain' }),
        expect.objectContaining({ text: 'bump node to 22 in the CI workflow', intent: 'ops' }),
      ]);
    }
  });

  it('takes a goal that starts with "-" after "--"', async () => {
    const { code, out } = await run(['--', '-v is ignored by the parser, fix it']);
    expect(code).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ text: '-v is ignored by the parser, fix it' });
  });

  it('exits 2 with a message for usage errors', async () => {
    for (const args of [['fix', 'the', 'bug'], ['   '], ['--verbose'], ['--']]) {
      const { code, out, err } = await run(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(out).toEqual([]);
      expect(err).toMatch(/^maestro intent: .+\nusage: maestro intent/);
    }
  });

  it('prints its usage for --help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^usage: maestro intent/);
  });
});
