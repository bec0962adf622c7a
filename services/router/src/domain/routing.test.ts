import { defaultPriceTable, parseModelSpec } from '@maestro/llm';
import { decideRoute, type TierModels } from './routing.js';
import { defaultRoutingPolicy, parseRoutingPolicy, workflowFor } from './routing-policy.js';

const tiers: TierModels = {
  strategic: { spec: parseModelSpec('gemini:gemini-2.5-pro'), fallbacks: [parseModelSpec('deepseek:deepseek-reasoner')] },
  tactical: { spec: parseModelSpec('scripted'), fallbacks: [] },
};
const context = { policy: defaultRoutingPolicy, tiers, prices: defaultPriceTable };

describe('decideRoute with the default policy (today\'s split)', () => {
  it.each([
    ['plan', 'strategic'],
    ['review', 'strategic'],
    ['escalate', 'strategic'],
    ['code', 'tactical'],
  ])('sends intent %s to the %s model', (intent, role) => {
    expect(decideRoute({ role: '', intent }, context).role).toBe(role);
  });

  it('reports the model, its fallbacks and whether it is scripted', () => {
    expect(decideRoute({ role: '', intent: 'plan' }, context)).toEqual({
      role: 'strategic',
      provider: 'gemini',
      model: 'gemini-2.5-pro',
      spec: 'gemini:gemini-2.5-pro',
      fallbacks: ['deepseek:deepseek-reasoner'],
      reason: 'rule "strategic phases": phase plan → strategic',
      scripted: false,
    });
    expect(decideRoute({ role: '', intent: 'code' }, context)).toMatchObject({ provider: 'scripted', model: 'scripted', scripted: true });
  });

  it('lets an explicit role win over the intent (a strategic take-over of a coding subtask)', () => {
    expect(decideRoute({ role: 'strategic', intent: 'code' }, context)).toMatchObject({ role: 'strategic', provider: 'gemini' });
    expect(decideRoute({ role: 'tactical', intent: 'plan' }, context)).toMatchObject({ role: 'tactical', provider: 'scripted' });
  });

  it('rejects unknown or missing intents and unknown roles, naming the field', () => {
    expect(() => decideRoute({ role: '', intent: 'dance' }, context)).toThrow(
      expect.objectContaining({ field: 'intent', reason: 'invalid', message: 'intent: unknown intent "dance"; expected one of plan, code, review, escalate, reflect, answer, classify' }),
    );
    expect(() => decideRoute({ role: '', intent: '' }, context)).toThrow(expect.objectContaining({ field: 'intent' }));
    expect(() => decideRoute({ role: '', intent: 'toString' }, context)).toThrow(expect.objectContaining({ field: 'intent' }));
    expect(() => decideRoute({ role: 'boss', intent: 'plan' }, context)).toThrow(expect.objectContaining({ field: 'role' }));
  });
});

describe('decideRoute with a policy', () => {
  const policy = parseRoutingPolicy({
    rules: [
      { name: 'docs are cheap', when: { phase: ['code'], taskIntent: ['docs'] }, use: 'openai:gpt-4o-mini', fallback: ['deepseek:deepseek-chat'] },
      {
        name: 'cheapest good coder',
        when: { phase: ['code'] },
        use: { cheapest: { candidates: ['openai:gpt-4.1', 'deepseek:deepseek-chat', 'openai:gpt-4o-mini'], minSuccessRate: 0.8, minSamples: 5, otherwise: 'tactical' } },
      },
      { when: { phase: ['plan', 'review', 'escalate'] }, use: 'strategic' },
    ],
    workflows: { docs: 'docs-only' },
  });

  it('matches the task intent and adds the rule\'s fallbacks', () => {
    expect(decideRoute({ role: '', intent: 'code', taskIntent: 'docs' }, { ...context, policy })).toMatchObject({
      spec: 'openai:gpt-4o-mini',
      role: 'tactical',
      fallbacks: ['deepseek:deepseek-chat'],
    });
  });

  it('picks the cheapest candidate whose measured success rate qualifies, and the fallback tier otherwise', () => {
    const rates = (spec: string) =>
      ({
        'openai:gpt-4.1': { verdicts: 20, successes: 19 },
        'deepseek:deepseek-chat': { verdicts: 10, successes: 9 },
        'openai:gpt-4o-mini': { verdicts: 10, successes: 5 },
      })[spec];
    const decision = decideRoute({ role: '', intent: 'code', taskIntent: 'fix' }, { ...context, policy, rates });
    expect(decision.spec).toBe('deepseek:deepseek-chat');
    expect(decision.reason).toContain('(9/10)');
    const few = (spec: string) => (spec === 'deepseek:deepseek-chat' ? { verdicts: 2, successes: 2 } : undefined);
    expect(decideRoute({ role: '', intent: 'code' }, { ...context, policy, rates: few })).toMatchObject({ spec: 'scripted', role: 'tactical' });
  });

  it('maps task intents to workflows, with the default for the rest and for goals classified less surely than the floor', () => {
    expect(workflowFor(policy, 'docs', 0.9)).toBe('docs-only');
    expect(workflowFor(policy, 'fix', 0.9)).toBe('coding');
    expect(workflowFor(policy, 'docs', 0.49)).toBe('coding');
    expect(workflowFor({ ...policy, workflowMinConfidence: 0.2 }, 'docs', 0.3)).toBe('docs-only');
  });

  it('runs questions on the read-only explain workflow by default, the rest (reviews included) on coding', () => {
    expect(workflowFor(defaultRoutingPolicy, 'explain', 0.8)).toBe('explain');
    expect(workflowFor(defaultRoutingPolicy, 'explain', 0.3)).toBe('coding');
    for (const intent of ['plan', 'code', 'fix', 'refactor', 'test', 'docs', 'review', 'ops']) expect(workflowFor(defaultRoutingPolicy, intent, 1)).toBe('coding');
    expect(decideRoute({ role: '', intent: 'answer' }, { ...context, policy: defaultRoutingPolicy })).toMatchObject({ role: 'strategic' });
  });

  it('rejects a bad policy naming the path at fault', () => {
    expect(() => parseRoutingPolicy({ rules: [] })).toThrow(/rules: /);
    expect(() => parseRoutingPolicy({ rules: [{ use: 'llama:7b' }] })).toThrow(/rules\[0\]\.use/);
    expect(() => parseRoutingPolicy({ rules: [{ use: { cheapest: { candidates: [], minSuccessRate: 2, otherwise: 'tactical' } } }] })).toThrow(
      /rules\[0\]\.use\.cheapest\.candidates.*minSuccessRate|rules\[0\]\.use/,
    );
    expect(() => parseRoutingPolicy({ rules: [{ use: 'tactical', when: { phase: ['code'], colour: 'red' } }] })).toThrow(/rules\[0\]\.when/);
  });
});
