/**
 * The demo's scripted strategic replies (examples/scripts/demo-script.json) must be replies
 * Orion accepts; this catches the script and the parsers drifting apart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePlanReply } from './plan.js';
import { parseReviewReply } from './review.js';

interface ScriptRule {
  when: { intent?: string };
  turns: Array<{ content?: string }>;
}

const script = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../../../examples/scripts/demo-script.json'), 'utf8'),
) as { rules: ScriptRule[] };

function replyFor(intent: string): string {
  const content = script.rules.find((r) => r.when.intent === intent)?.turns[0]?.content;
  if (content === undefined) throw new Error(`the demo script has no ${intent} reply`);
  return content;
}

it('accepts the demo plan', () => {
  expect(parsePlanReply(replyFor('plan')).subtasks.map((s) => s.id)).toEqual(['s1', 's2']);
});

it('accepts the demo review', () => {
  expect(parseReviewReply(replyFor('review')).approved).toBe(true);
});
