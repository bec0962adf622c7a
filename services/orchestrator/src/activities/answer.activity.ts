/**
 * `answer` (the read-only `explain` workflow): answers the task's question with the strategic
 * model from the repository's file listing, the files the question names or that match it
 * (read confined to the work tree, `RepoProbe.readRepoFile`), and what memory knows about the
 * project (recorded as a `recall` step), then stores the answer on the task. Nothing is
 * planned, edited, committed or delivered. A scripted reply is stored labelled as one. A
 * redelivery returns the stored answer instead of asking again.
 */
import { ANSWER_REPLY_FORMAT, buildAnswerPrompt, chooseFilesToQuote, parseAnswerReply, type QuotedFile } from '../domain/answer-prompt.js';
import { toRecallQuery } from '../domain/recall-query.js';
import { assertTaskActive, completed, requireTask, type Activity } from './activity.js';
import { askUntilParsed } from './model-call.js';
import { recallForPrompt } from './recall-memory.js';

/** What opens a stored answer that a script, not a model, gave. */
export const SCRIPTED_ANSWER_LABEL = '[scripted reply, not a model\'s answer]';

/** Output: `{ answer, quotedFiles, model: { provider, model, scripted } }`. */
export const answerActivity: Activity = async (invocation) => {
  const { deps, logger } = invocation;
  const { task } = await requireTask(invocation);
  if (task.answer !== null) {
    logger.info('answer request redelivered; returning the stored answer');
    return completed({ answer: task.answer });
  }

  // Memory is optional: an outage costs the notes, never the answer (see recall-memory.ts).
  const notes = await recallForPrompt(invocation, task, 'answer', toRecallQuery(task.goal));
  const files = await deps.repoProbe.listFiles(task.repoPath);
  const quoted: QuotedFile[] = [];
  for (const path of chooseFilesToQuote(task.goal, files)) {
    const text = await deps.repoProbe.readRepoFile(task.repoPath, path);
    if (text !== undefined) quoted.push({ path, text });
  }
  const messages = buildAnswerPrompt({ question: task.goal, project: task.project, files, quoted, notes });
  const { value, model, reAsks } = await askUntilParsed({ ...invocation, task }, 'answer', messages, {
    parse: parseAnswerReply,
    replyFormat: ANSWER_REPLY_FORMAT,
    reAsks: deps.options?.replyReAsks ?? 2,
  });
  const answer = model.scripted ? `${SCRIPTED_ANSWER_LABEL} ${value}` : value;
  await deps.store.withLockedTask(task.id, async (locked) => {
    // The task may have ended (cancelled) while the model was thinking: store nothing then.
    assertTaskActive(locked.task);
    await locked.update({ answer });
  });
  logger.info('answer stored', { chars: answer.length, quotedFiles: quoted.length, scripted: model.scripted, reAsks });
  return completed({ answer, quotedFiles: quoted.map((file) => file.path), model: { ...model } });
};
