import { createCommandPolicy, defaultCommandPolicy, parseCommandPrefixes, toPrefixRules } from '@maestro/agent';
import { UserError } from '@maestro/runtime';
import { assertTestCommandAllowed } from './agent-merge-rounds.js';

describe('the test gate checks the test command against the command policy', () => {
  it('lets the usual test commands through, and an absent one', () => {
    for (const command of [['npm', 'test'], ['node', '--test'], ['make', 'test'], ['pnpm', 'run', 'test'], []]) {
      expect(() => assertTestCommandAllowed(command, defaultCommandPolicy)).not.toThrow();
    }
  });

  it('fails the subtask with COMMAND_DENIED, the rule and the reason', () => {
    let thrown: unknown;
    try {
      assertTestCommandAllowed(['sh', '-c', 'id > /tmp/owned'], defaultCommandPolicy);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UserError);
    expect(thrown).toMatchObject({ code: 'COMMAND_DENIED' });
    expect((thrown as Error).message).toContain('rule shell-script-complex');
    expect((thrown as Error).message).toContain('redirection');
  });

  it('follows the configured rules', () => {
    const policy = createCommandPolicy({
      allow: toPrefixRules(parseCommandPrefixes('tox'), 'MAESTRO_COMMAND_ALLOW'),
      deny: toPrefixRules(parseCommandPrefixes('npm test'), 'MAESTRO_COMMAND_DENY'),
    });
    expect(() => assertTestCommandAllowed(['tox', '-e', 'py3'], policy)).not.toThrow();
    expect(() => assertTestCommandAllowed(['npm', 'test'], policy)).toThrow(/MAESTRO_COMMAND_DENY:npm test/);
  });
});
