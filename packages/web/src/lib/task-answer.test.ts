import { answerOf, SCRIPTED_ANSWER_LABEL } from './task-answer';

describe('answerOf', () => {
  it('gives a model\'s answer whole, line breaks kept', () => {
    const answer = 'src/add.js exports add(a, b).\n\nIt returns a + b.\n  - checked by test/add.test.js';
    expect(answerOf({ answer })).toEqual({ scripted: false, text: answer });
  });

  it('tells a scripted answer by its label and shows the text without it', () => {
    expect(answerOf({ answer: `${SCRIPTED_ANSWER_LABEL} src/add.js exports one function.\nThat is all.` })).toEqual({
      scripted: true,
      text: 'src/add.js exports one function.\nThat is all.',
    });
  });

  it('keeps a label that only appears later in the text as part of a model\'s answer', () => {
    const answer = `The demo answers with ${SCRIPTED_ANSWER_LABEL} first.`;
    expect(answerOf({ answer })).toEqual({ scripted: false, text: answer });
  });

  it('has no answer for a task without one', () => {
    expect(answerOf({ answer: '' })).toBeUndefined();
    expect(answerOf({ answer: ' \n' })).toBeUndefined();
    expect(answerOf(undefined)).toBeUndefined();
    expect(answerOf({} as { answer: string })).toBeUndefined();
  });
});
