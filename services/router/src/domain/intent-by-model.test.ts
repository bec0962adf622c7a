import { intentList } from '@maestro/intent';
import { intentQuestion, IntentReplyError, MAX_GOAL_CHARS, parseIntentReply } from './intent-by-model.js';

const rules = { intent: 'code' as const, confidence: 0.213, reason: 'no strong cue' };

describe('intentQuestion', () => {
  it('lists every intent, asks for one JSON object, and shows the goal and the unsure guess', () => {
    const [system, user] = intentQuestion('look at the retry logic', rules);
    for (const intent of intentList) expect(system!.content).toContain(`- ${intent}: `);
    expect(system!.content).toContain('{"intent": "<one of the intents>", "confidence": <0 to 1>, "reason": "<one short sentence>"}');
    expect(user!.content).toContain('Task: look at the retry logic');
    expect(user!.content).toContain('guessed "code" with confidence 0.21 (no strong cue)');
  });

  it('cuts a very long goal', () => {
    const [, user] = intentQuestion('x'.repeat(MAX_GOAL_CHARS + 500), rules);
    expect(user!.content).toContain(`${'x'.repeat(MAX_GOAL_CHARS)} […]`);
    expect(user!.content).not.toContain('x'.repeat(MAX_GOAL_CHARS + 1));
  });
});

describe('parseIntentReply', () => {
  it('reads the object, in a fence or prose too, whatever the case of the intent', () => {
    expect(parseIntentReply('{"intent": "review", "confidence": 0.8, "reason": "asks for an opinion on a change"}')).toEqual({
      intent: 'review',
      confidence: 0.8,
      reason: 'asks for an opinion on a change',
    });
    expect(parseIntentReply('Here you go:\n```json\n{"intent": " Explain ", "confidence": 0.7, "reason": "a question"}\n```').intent).toBe('explain');
  });

  it('clamps the confidence to [0, 1] and says when no reason was given', () => {
    expect(parseIntentReply('{"intent": "fix", "confidence": 7}')).toEqual({ intent: 'fix', confidence: 1, reason: 'the model gave no reason' });
    expect(parseIntentReply('{"intent": "fix", "confidence": -1, "reason": " "}').confidence).toBe(0);
  });

  it.each([
    ['no JSON at all', 'I think it is a fix.', /holds no JSON object/],
    ['broken JSON', '{"intent": "fix", }', /does not parse/],
    ['a JSON string', '"fix"', /holds no JSON object/],
    ['an unknown intent', '{"intent": "bugfix", "confidence": 0.9}', /"intent" must be one of plan, code, fix/],
    ['a missing confidence', '{"intent": "fix"}', /"confidence" must be a number/],
    ['a text confidence', '{"intent": "fix", "confidence": "high"}', /"confidence" must be a number/],
  ])('refuses %s, saying why', (_case, reply, message) => {
    expect(() => parseIntentReply(reply)).toThrow(IntentReplyError);
    expect(() => parseIntentReply(reply)).toThrow(message);
  });
});
