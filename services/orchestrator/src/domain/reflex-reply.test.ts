import { readFileSync } from 'node:fs';
import path from 'node:path';
import { modelAuthor, parseReflectReply, REFLECT_REPLY_INVALID } from './reflex-reply.js';

describe('parseReflectReply', () => {
  it('reads the lesson, fenced or bare', () => {
    expect(parseReflectReply('```json\n{"lesson": "divide() must throw\\n a RangeError on 0."}\n```')).toEqual({ lesson: 'divide() must throw a RangeError on 0.' });
    expect(parseReflectReply('Here: {"lesson":"l"}')).toEqual({ lesson: 'l' });
  });

  it('accepts a reply that still names a topic, and ignores it: the topic is never the model\'s', () => {
    expect(parseReflectReply('{"lesson": "l", "topic": "Something Else Entirely"}')).toEqual({ lesson: 'l' });
  });

  it('refuses prose, a missing or empty lesson, and an over-long lesson, naming the field', () => {
    expect(() => parseReflectReply('I learned a lot')).toThrow(expect.objectContaining({ code: REFLECT_REPLY_INVALID }));
    expect(() => parseReflectReply('{"topic": "t"}')).toThrow(/lesson:/);
    expect(() => parseReflectReply('{"lesson": "  ", "topic": "t"}')).toThrow(/lesson: must not be empty/);
    expect(() => parseReflectReply(JSON.stringify({ lesson: 'x'.repeat(1_501), topic: 't' }))).toThrow(/lesson: must be at most 1500 characters/);
  });
});

describe('modelAuthor', () => {
  it('names the model, and never presents a scripted reply as a model', () => {
    expect(modelAuthor({ provider: 'gemini', model: 'gemini-2.5-pro', scripted: false })).toBe('model:gemini/gemini-2.5-pro');
    expect(modelAuthor({ provider: 'scripted', model: 'scripted', scripted: true })).toBe('scripted:scripted');
    expect(modelAuthor({ provider: 'openai', model: 'gpt-4o', scripted: true })).toBe('scripted:gpt-4o');
  });
});

describe('the scripted reflect replies of the reflex e2e script', () => {
  it('parse into two different lessons (their `topic` fields are ignored)', () => {
    const script = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../examples/scripts/reflex-learning-script.json'), 'utf8')) as {
      rules: Array<{ when: { intent?: string }; turns: Array<{ content?: string }> }>;
    };
    const replies = script.rules.filter((r) => r.when.intent === 'reflect').flatMap((r) => r.turns.map((t) => parseReflectReply(t.content ?? '')));
    expect(replies).toHaveLength(2);
    expect(new Set(replies.map((r) => r.lesson)).size).toBe(2);
  });
});
