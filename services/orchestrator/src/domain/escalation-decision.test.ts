import { UserError } from '@maestro/runtime';
import { ESCALATION_REPLY_INVALID, parseEscalationDecision } from './escalation-decision.js';

describe('parseEscalationDecision', () => {
  it('reads each of the four decisions, fenced or bare', () => {
    expect(parseEscalationDecision('{"decision":"hint","reason":"r","hint":"do x"}')).toEqual({ decision: 'hint', reason: 'r', hint: 'do x' });
    expect(parseEscalationDecision('Here:\n```json\n{"decision":"takeover","reason":"hard"}\n```')).toEqual({ decision: 'takeover', reason: 'hard' });
    expect(parseEscalationDecision('{"decision":"abandon","reason":"impossible"}')).toEqual({ decision: 'abandon', reason: 'impossible' });
    expect(
      parseEscalationDecision(
        JSON.stringify({ decision: 'replan', reason: 'too big', subtasks: [{ title: 'a', instructions: 'b', files: ['./src/a.js'] }, { title: 'c', instructions: 'd' }] }),
      ),
    ).toEqual({
      decision: 'replan',
      reason: 'too big',
      subtasks: [
        { title: 'a', instructions: 'b', files: ['src/a.js'] },
        { title: 'c', instructions: 'd', files: [] },
      ],
    });
  });

  it('refuses, naming the problem and quoting the reply: prose, an unknown decision, a hint without its hint, a re-plan without subtasks or leaving the repository', () => {
    const problem = (reply: string): string => {
      try {
        parseEscalationDecision(reply);
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        expect(err).toMatchObject({ code: ESCALATION_REPLY_INVALID });
        return (err as Error).message;
      }
      throw new Error('parsed');
    };
    expect(problem('I would retry it.')).toMatch(/^the escalation reply is not JSON .*reply was "I would retry it."$/);
    expect(problem('{"decision":"retry","reason":"r"}')).toContain('decision:');
    expect(problem('{"decision":"hint","reason":"r"}')).toContain('hint:');
    expect(problem('{"decision":"replan","reason":"r","subtasks":[]}')).toContain('subtasks: must contain at least one subtask');
    expect(problem('{"decision":"replan","reason":"r","subtasks":[{"title":"t","instructions":"i","files":["../x"]}]}')).toContain(
      'subtasks[0].files[0]: must stay inside the repository',
    );
    expect(problem('{"decision":"abandon","reason":"  "}')).toContain('reason: must not be empty');
  });
});
