/**
 * Who a memory applies to: everyone on the project (`project`), one user (`user:<id>`) or one
 * team (`team:<id>`). Recall always includes `project` plus the scopes the caller names.
 */
import { invalidField } from '@maestro/runtime';
import { MemoryLimits } from './memory.js';

/** The scope of memories that apply to everyone working on the project. */
export const PROJECT_SCOPE = 'project';

// An id is anything printable without spaces, commas (the HTTP API lists scopes with commas)
// or colons, so a scope always splits back into exactly its kind and id.
const scopePattern = new RegExp(`^(user|team):[^\\s,:]{1,${MemoryLimits.maxScopeIdLength}}$`);

/** What a scope may look like, for messages. */
export const SCOPE_RULE = `"project", "user:<id>" or "team:<id>" (an id of 1..${MemoryLimits.maxScopeIdLength} characters without spaces, commas or colons)`;

/** True when `scope` is a valid scope. */
export function isScope(scope: string): boolean {
  return scope === PROJECT_SCOPE || scopePattern.test(scope);
}

/** Checks one scope, naming `field` when it is not one; empty means `project`. */
export function requireScope(scope: string, field: string): string {
  const trimmed = scope.trim();
  if (trimmed === '') return PROJECT_SCOPE;
  if (!isScope(trimmed)) throw invalidField(field, `must be ${SCOPE_RULE}, got "${scope}"`);
  return trimmed;
}

/**
 * The scopes a recall searches: `project` first, then the caller's, each checked (naming
 * `scopes[i]`) and listed once.
 */
export function recallScopes(scopes: readonly string[]): string[] {
  if (scopes.length > MemoryLimits.maxScopes) {
    throw invalidField('scopes', `must be at most ${MemoryLimits.maxScopes} scopes, got ${scopes.length}`);
  }
  const out = [PROJECT_SCOPE];
  scopes.forEach((raw, i) => {
    if (raw.trim() === '') throw invalidField(`scopes[${i}]`, `must be ${SCOPE_RULE}, got an empty string`);
    const scope = requireScope(raw, `scopes[${i}]`);
    if (!out.includes(scope)) out.push(scope);
  });
  return out;
}
