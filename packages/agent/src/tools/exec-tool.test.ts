import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandPolicy, parseCommandPrefixes, toPrefixRules } from '../policy/index.js';
import { createToolRegistry, type ToolContext } from '../tool-registry.js';
import { createExecTool } from './exec-tool.js';

const call = (argv: string[]) => ({ id: 'c', name: 'exec', argumentsJson: JSON.stringify({ argv }) });

describe('exec under the command policy', () => {
  let ws: string;
  let context: ToolContext;
  beforeEach(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-exec-policy-')));
    context = { workspace: ws, writeGuard: { acquire: async () => undefined } };
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('answers a denied command with the code and reason, and never runs it', async () => {
    const tools = createToolRegistry([createExecTool()]);
    const touched = await tools.run(call(['touch', 'marker']), context);
    expect(touched.ok).toBe(false);
    expect(touched.output).toMatch(/^COMMAND_DENIED: refused by the command policy \(rule default-deny\): "touch marker" .*The command was not run\.$/);
    const script = await tools.run(call(['bash', '-lc', 'ls && touch marker2 && git reset --hard']), context);
    expect(script.output).toMatch(/^COMMAND_DENIED: .*rule git-reset/);
    expect(existsSync(join(ws, 'marker'))).toBe(false);
    expect(existsSync(join(ws, 'marker2'))).toBe(false);
  });

  it('runs what the policy allows, including configured additions', async () => {
    const policy = createCommandPolicy({ allow: toPrefixRules(parseCommandPrefixes('touch, definitely-not-a-program-xyz'), 'MAESTRO_COMMAND_ALLOW') });
    const tools = createToolRegistry([createExecTool(policy)]);
    expect(await tools.run(call(['touch', 'marker']), context)).toMatchObject({ ok: true });
    expect(existsSync(join(ws, 'marker'))).toBe(true);
    expect((await tools.run(call(['definitely-not-a-program-xyz']), context)).output).toMatch(/could not start "definitely-not-a-program-xyz"/);
  });
});
