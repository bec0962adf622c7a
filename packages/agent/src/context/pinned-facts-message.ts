/**
 * The pinned-facts message of a condensed request: every fact word for word, grouped by kind,
 * under a line that tells the model what they are. A fact is written as it is (never re-worded
 * or indented), so the check that it is in the request is a plain substring test.
 */
import { PinnedFactKinds, type PinnedFact, type PinnedFactKind } from './context-types.js';

/** Headings of the groups, in the order they are listed. */
const HEADINGS: ReadonlyArray<[PinnedFactKind, string]> = [
  [PinnedFactKinds.task, 'Task'],
  [PinnedFactKinds.constraint, 'Constraints'],
  [PinnedFactKinds.userFeedback, 'What the user said'],
  [PinnedFactKinds.preference, 'Preferences'],
  [PinnedFactKinds.file, 'Files edited or in scope'],
  [PinnedFactKinds.failingTest, 'Failing tests'],
  [PinnedFactKinds.error, 'Errors seen'],
  [PinnedFactKinds.agent, 'Pinned by you'],
];

/** The first line of the message. */
export const PINNED_FACTS_HEADER = '[Pinned facts: kept word for word whenever the context is condensed.]';

/** The text of the pinned-facts message listing `facts`. */
export function renderPinnedFacts(facts: readonly PinnedFact[]): string {
  const sections: string[] = [PINNED_FACTS_HEADER];
  for (const [kind, heading] of HEADINGS) {
    const texts = [...new Set(facts.filter((fact) => fact.kind === kind).map((fact) => fact.text))];
    if (texts.length > 0) sections.push(`${heading}:\n${texts.map((text) => `- ${text}`).join('\n')}`);
  }
  return sections.join('\n');
}
