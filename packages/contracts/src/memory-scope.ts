/**
 * Memory scopes: who a memory applies to. `project` is everyone on the project; `user:<id>` one
 * user, `team:<id>` one team. Declared once for the memory service and for every caller that
 * names scopes (a task's `memoryScopes`, the gateway's memory routes). Pure.
 */

/** The scope of memories that apply to everyone working on the project. */
export const PROJECT_SCOPE = 'project';

/** Limits on scopes, shared by memory and its callers. */
export const MemoryScopeLimits = {
  /** Longest id after `user:` / `team:`. */
  maxIdLength: 128,
  /** Most scopes one recall names besides `project`. */
  maxRecallScopes: 20,
  /** Most scopes a task names besides `project` (each recall of the task sends them all). */
  maxTaskScopes: 8,
} as const;

/**
 * `user:<id>` or `team:<id>`, as a pattern's source (for JSON schemas too). An id is anything
 * printable without spaces, commas (the HTTP API lists scopes with commas) or colons, so a scope
 * always splits back into exactly its kind and id.
 */
export const PERSONAL_SCOPE_PATTERN = `^(user|team):[^\\s,:]{1,${MemoryScopeLimits.maxIdLength}}$`;
const personalScope = new RegExp(PERSONAL_SCOPE_PATTERN);

/** What a scope may look like, for messages. */
export const MEMORY_SCOPE_RULE = `"project", "user:<id>" or "team:<id>" (an id of 1..${MemoryScopeLimits.maxIdLength} characters without spaces, commas or colons)`;

/** True when `scope` is `project`, `user:<id>` or `team:<id>`. */
export function isMemoryScope(scope: string): boolean {
  return scope === PROJECT_SCOPE || personalScope.test(scope);
}
