/**
 * The command policy against Codex's command-safety cases (`shared/corpora/safety/
 * codex_command_safety_cases.json`, read in place): every `dangerous` case denied, every
 * `known_safe` case allowed. How the policy decides `not_known_safe` and `not_dangerous` is
 * printed with the counts, not asserted (their meaning is "needs approval" / "not dangerous",
 * neither of which fixes allow or deny).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCommandPolicy, type CommandDecision } from '../src/policy/index.js';

interface SafetyCorpus {
  semantics: string;
  known_safe: string[][];
  not_known_safe: string[][];
  dangerous: string[][];
  not_dangerous: string[][];
}

const corpus = JSON.parse(
  readFileSync(join(__dirname, '../../../../shared/corpora/safety/codex_command_safety_cases.json'), 'utf8'),
) as SafetyCorpus;

const categories = ['known_safe', 'not_known_safe', 'dangerous', 'not_dangerous'] as const;
const decided = Object.fromEntries(
  categories.map((category) => [category, corpus[category].map((argv) => ({ argv, decision: defaultCommandPolicy.evaluate(argv) }))]),
) as Record<(typeof categories)[number], { argv: string[]; decision: CommandDecision }[]>;

afterAll(() => {
  const lines = categories.map((category) => {
    const cases = decided[category];
    const allowed = cases.filter((c) => c.decision.decision === 'allow').length;
    return `${category}: ${cases.length} cases, ${allowed} allowed, ${cases.length - allowed} denied`;
  });
  const rules = decided.dangerous.map((c) => `  ${JSON.stringify(c.argv)} → ${c.decision.rule}`);
  const notKnownSafeAllowed = decided.not_known_safe.filter((c) => c.decision.decision === 'allow').map((c) => `  ${JSON.stringify(c.argv)} → ${c.decision.rule}`);
  console.log(
    `command safety corpus\n${lines.join('\n')}\ndangerous cases denied by:\n${rules.join('\n')}\nnot_known_safe cases allowed (Codex would ask):\n${notKnownSafeAllowed.join('\n')}`,
  );
});

describe('command policy against the Codex command-safety corpus', () => {
  it('holds cases in every category', () => {
    expect(categories.map((c) => corpus[c].length).every((n) => n > 0)).toBe(true);
  });

  it.each(decided.dangerous.map((c) => [JSON.stringify(c.argv), c.decision] as const))('denies the dangerous %s', (_argv, decision) => {
    expect(decision.decision).toBe('deny');
    expect(decision.rule).not.toBe('default-deny');
  });

  it.each(decided.known_safe.map((c) => [JSON.stringify(c.argv), c.decision] as const))('allows the known-safe %s', (_argv, decision) => {
    expect(decision).toMatchObject({ decision: 'allow' });
  });

});
