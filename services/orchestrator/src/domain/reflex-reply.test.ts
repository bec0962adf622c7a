import { readFileSync } from 'node:fs';
import path from 'node:path';
import { modelAuthor, parseReflectReply, REFLECT_REPLY_INVALID } from './reflex-reply.js';

describe('parseReflectReply', () => {
  it('reads the lesson and normalises the topic, fenced or bare', () => {
    expect(parseReflectReply('```json\n{"lesson": "divide() must throw\\n a RangeError on 0.", "topic": "Failing Tests:  divide refuses"}\n```')).toEqual({
      lesson: 'divide() must throw a RangeError on 0.',
      topic: 'failing tests: divide refuses',
    });
    expect(parseReflectReply('Here: {"lesson":"l","topic":"t"}')).toEqual({ lesson: 'l', topic: 't' });
  });

  it('refuses prose, a missing or empty field, and an over-long lesson, naming the field', () => {
    expect(() => parseReflectReply('I learned a lot')).toThrow(expect.objectContaining({ code: REFLECT_REPLY_INVALID }));
    expect(() => parseReflectReply('{"lesson": "l"}')).toThrow(/topic:/);
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
  it('parse, and give both lessons the same topic', () => {
    const script = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../examples/scripts/reflex-learning-script.json'), 'utf8')) as {
      rules: Array<{ when: { intent?: string }; turns: Array<{ content?: string }> }>;
    };
    const replies = script.rules.filter((r) => r.when.intent === 'reflect').flatMap((r) => r.turns.map((t) => parseReflectReply(t.content ?? '')));
    expect(replies).toHaveLength(2);
    expect(new Set(replies.map((r) => r.topic))).toEqual(new Set(['failing tests: divide refuses to divide by zero']));
  });
});
