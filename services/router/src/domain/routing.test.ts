import { parseModelSpec } from '@maestro/llm';
import { decideRoute } from './routing.js';

const models = { strategic: parseModelSpec('gemini:gemini-2.5-pro'), tactical: parseModelSpec('scripted') };

describe('decideRoute', () => {
  it.each([
    ['plan', 'strategic'],
    ['review', 'strategic'],
    ['escalate', 'strategic'],
    ['code', 'tactical'],
  ])('sends intent %s to the %s model', (intent, role) => {
    expect(decideRoute({ role: '', intent }, models).role).toBe(role);
  });

  it('reports the model and whether it is scripted', () => {
    expect(decideRoute({ role: '', intent: 'plan' }, models)).toEqual({
      role: 'strategic',
      provider: 'gemini',
      model: 'gemini-2.5-pro',
      reason: 'intent plan goes to the strategic model',
      scripted: false,
    });
    expect(decideRoute({ role: '', intent: 'code' }, models)).toMatchObject({ provider: 'scripted', model: 'scripted', scripted: true });
  });

  it('lets an explicit role win over the intent', () => {
    expect(decideRoute({ role: 'tactical', intent: 'plan' }, models)).toMatchObject({
      role: 'tactical',
      reason: 'role tactical requested explicitly (intent plan)',
    });
  });

  it('rejects unknown or missing intents and unknown roles, naming the field', () => {
    expect(() => decideRoute({ role: '', intent: 'dance' }, models)).toThrow(
      expect.objectContaining({ field: 'intent', reason: 'invalid', message: 'intent: unknown intent "dance"; expected one of plan, review, escalate, code' }),
    );
    expect(() => decideRoute({ role: '', intent: '' }, models)).toThrow(expect.objectContaining({ field: 'intent' }));
    expect(() => decideRoute({ role: '', intent: 'toString' }, models)).toThrow(expect.objectContaining({ field: 'intent' }));
    expect(() => decideRoute({ role: 'boss', intent: 'plan' }, models)).toThrow(expect.objectContaining({ field: 'role' }));
  });
});
