/**
 * JSON-schema pieces shared by the routes. Bodies are validated strictly (no type coercion,
 * unknown fields rejected); path and query parameters are coerced from text (see app.ts).
 */
import { TaskLimits, WORKFLOW_NAME_PATTERN } from '@maestro/contracts';
import { explainPattern } from './error-handler.js';

/** A string with at least one non-space character. */
export const nonBlank = explainPattern('\\S', 'must not be blank');

/**
 * What a task or run id may look like: letters, digits and `._:-`, at most 128 characters.
 * Loose on purpose (UUIDs, ULIDs and prefixed ids all fit) but enough to turn away garbage
 * before it reaches an upstream service.
 */
export const idPattern = explainPattern(
  '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
  'must be an id: letters, digits, ".", "_", ":" or "-", at most 128 characters',
);

/** Path parameters of `/…/:id` routes. */
export const idParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: idPattern } },
} as const;

/** Typed path parameters of `/…/:id` routes. */
export interface IdParams {
  id: string;
}

/** An opaque paging cursor: the `nextPageToken` of a previous page. */
export const pageTokenSchema = { type: 'string', minLength: 1, maxLength: 2048 } as const;

/** A workflow definition name, as the workflow-engine accepts it. */
export const definitionNamePattern = explainPattern(
  WORKFLOW_NAME_PATTERN,
  'must be a workflow definition name: a letter or "_", then letters, digits, "_" or "-"',
);

/** Path parameters of `/v1/definitions/:name…` routes. */
export const nameParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: TaskLimits.workflowMaxChars, pattern: definitionNamePattern } },
} as const;

/** Typed path parameters of `/v1/definitions/:name…` routes. */
export interface NameParams {
  name: string;
}
