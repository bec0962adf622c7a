/**
 * What the executor asks memory about a subtask: one query made from the subtask's title, the
 * files it works on and its instructions, within memory's limit on a query, and the scopes whose
 * memories apply besides the project's. Pure.
 */
import { isMemoryScope, MemoryRecallLimits, MemoryScopeLimits, PROJECT_SCOPE, toRecallQueryText, type SubtaskWork } from '@maestro/contracts';

/** Memory refuses a recall query longer than this (characters). */
export const RECALL_QUERY_MAX_CHARS = MemoryRecallLimits.queryMaxChars;

/**
 * The recall query of a subtask: its title, then its files, then its instructions, whitespace
 * collapsed, cut to at most `maxChars` at a word boundary. Title and files come first because
 * they are short and say most precisely what the work is about; long instructions are what
 * gets cut. '' when the subtask says nothing (no recall is then asked).
 */
export function toRecallQuery(work: Pick<SubtaskWork, 'title' | 'instructions' | 'files'>, maxChars: number = RECALL_QUERY_MAX_CHARS): string {
  const text = [work.title, work.files.join(' '), work.instructions]
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' — ');
  return toRecallQueryText(text, maxChars);
}

/**
 * The scopes a subtask's recall names besides `project`: the work item's `memoryScopes` (its
 * task's, as submitted), trimmed, each once, at most `MemoryScopeLimits.maxRecallScopes`. Orion
 * validated them at submit; one that is not a `user:<id>` / `team:<id>` scope all the same is
 * left out (in `dropped`) rather than sent, because memory would refuse the whole recall for it.
 */
export function toRecallScopes(memoryScopes: readonly string[] = []): { scopes: string[]; dropped: string[] } {
  const scopes: string[] = [];
  const dropped: string[] = [];
  for (const raw of memoryScopes) {
    const scope = raw.trim();
    if (scope === PROJECT_SCOPE || scopes.includes(scope)) continue;
    if (!isMemoryScope(scope) || scopes.length >= MemoryScopeLimits.maxRecallScopes) dropped.push(raw);
    else scopes.push(scope);
  }
  return { scopes, dropped };
}
