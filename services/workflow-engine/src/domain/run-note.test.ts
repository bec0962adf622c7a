import { checkRunNote, decideNote, isNoteEvent, RunNoteLimits } from './run-note.js';

const position = { snapshot: { value: 'code' }, state: 'code', status: 'running' as const, attempt: 2, visits: { code: 2 }, context: { input: {}, outputs: {} } };

describe('run notes', () => {
  it('are decided as one history row from the run\'s state to itself, the position unchanged', () => {
    const note = checkRunNote({ type: 'escalation.decided', noteId: 'e1:decided', data: { decision: 'hint' } });
    expect(decideNote(position, note)).toEqual({
      kind: 'update',
      position,
      transition: { fromState: 'code', toState: 'code', eventType: 'escalation.decided', event: { decision: 'hint', note: true, noteId: 'e1:decided' } },
    });
  });

  it('are told from events by their note flag and id', () => {
    expect(isNoteEvent({ type: 'x', note: true, noteId: 'n' })).toBe(true);
    expect(isNoteEvent({ type: 'CANCEL' })).toBe(false);
    expect(isNoteEvent({ note: 'yes', noteId: 'n' })).toBe(false);
  });

  it.each([
    [{ type: 'Escalation Raised' }, 'type'],
    [{ type: 'activity.done' }, 'type'],
    [{ type: 'run.finished' }, 'type'],
    [{ noteId: '' }, 'note_id'],
    [{ noteId: 'x'.repeat(RunNoteLimits.maxNoteId + 1) }, 'note_id'],
    [{ data: { big: 'x'.repeat(RunNoteLimits.maxDataChars) } }, 'data'],
    [{ data: { noteId: 'mine' } }, 'data'],
  ])('are refused when %j, naming %s', (fault, field) => {
    expect(() => checkRunNote({ type: 'escalation.raised', noteId: 'n1', data: {}, ...fault })).toThrow(expect.objectContaining({ field }));
  });
});
