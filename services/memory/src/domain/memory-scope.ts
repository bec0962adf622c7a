/**
 * Who a memory applies to: everyone on the project (`project`), one user (`user:<id>`) or one
 * team (`team:<id>`). Recall always includes `project` plus the scopes the caller names.
 */
import { isMemoryScope, MEMORY_SCOPE_RULE, PROJECT_SCOPE } from '@maestro/contracts';
import { invalidField } from '@maestro/runtime';
import { MemoryLimits } from './memory.js';

export { PROJECT_SCOPE };

/** What a scope may look like, for messages (the rule of `@maestro/contracts`). */
export const SCOPE_RULE = MEMORY_SCOPE_RULE;

/** True when `scope` is a valid scope. */
export const isScope = isMemoryScope;

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
