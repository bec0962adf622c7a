/**
 * A task's `memoryScopes` at the edge: whose preferences apply besides the project's
 * (`user:<id>`, `team:<id>`). The JSON schema says as much of the rule as a schema can, so
 * `/openapi.json` shows it; {@link requireTaskMemoryScopes} then applies the shared rule of
 * `@maestro/contracts` itself, which stays the authority.
 */
import { isMemoryScope, MemoryScopeLimits, PERSONAL_SCOPE_PATTERN, PROJECT_SCOPE } from '@maestro/contracts';
import { invalidField } from '@maestro/runtime';
import { explainPattern } from './error-handler.js';

const personalScopeRule =
  `"user:<id>" or "team:<id>" (an id of 1..${MemoryScopeLimits.maxIdLength} characters without spaces, commas or colons); ` +
  `"${PROJECT_SCOPE}" is always recalled: leave it out`;

/**
 * `user:<id>` or `team:<id>`, the pattern of `isMemoryScope` without `project`. Ajv counts the
 * id's length in code points, `isMemoryScope` in UTF-16 units: an id with characters outside
 * the BMP can pass here and still be refused by {@link requireTaskMemoryScopes}.
 */
const personalScopePattern = explainPattern(PERSONAL_SCOPE_PATTERN, `must be ${personalScopeRule}`);

/** The `memoryScopes` property of the `POST /v1/tasks` body schema. */
export const taskMemoryScopesSchema = {
  type: 'array',
  description:
    `Whose preferences apply besides the project's: at most ${MemoryScopeLimits.maxTaskScopes} scopes, ` +
    `each ${personalScopeRule}. A scope named twice is kept once. Left out: the project's only.`,
  maxItems: MemoryScopeLimits.maxTaskScopes,
  items: { type: 'string', minLength: 1, pattern: personalScopePattern },
} as const;

/**
 * The scopes to send to SubmitTask: `[]` when the body named none. Throws a UserError naming
 * `memoryScopes` or `memoryScopes[i]` for what the schema let through but the shared rule
 * refuses, so nothing reaches the orchestrator that it would turn away. A scope named twice is
 * passed on as it is: SubmitTask keeps the first, as it does for gRPC callers.
 */
export function requireTaskMemoryScopes(scopes: readonly string[] | undefined): string[] {
  if (scopes === undefined) return [];
  if (scopes.length > MemoryScopeLimits.maxTaskScopes) {
    throw invalidField('memoryScopes', `must be at most ${MemoryScopeLimits.maxTaskScopes} scopes, got ${scopes.length}`);
  }
  scopes.forEach((scope, i) => {
    if (scope === PROJECT_SCOPE || !isMemoryScope(scope)) throw invalidField(`memoryScopes[${i}]`, `must be ${personalScopeRule}, got "${scope}"`);
  });
  return [...scopes];
}
