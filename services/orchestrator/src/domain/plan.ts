/**
 * The plan: the strategic model's split of a task into subtasks. Its reply must be JSON
 * (optionally in a ```json fence) of the shape
 * `{"subtasks":[{"id":"s1","title":"…","instructions":"…","files":["src/math.js"]}]}`.
 * A reply that does not parse or does not fit is rejected with a reason that quotes what was
 * wrong, so the failed run says why.
 */
import path from 'node:path';
import { UserError } from '@maestro/runtime';
import { z } from 'zod';
import { extractJsonText, formatIssues, quoteReply, tryParseJson } from './model-reply.js';

/** Most subtasks a plan may have; more means the goal should be split into several tasks. */
export const MAX_SUBTASKS = 20;

/**
 * A workspace-relative file path: not absolute, no `..` segment, `/`-separated; `./a` is
 * normalized to `a`. Agents lock and edit these paths, so escaping the work tree is refused.
 */
export const WorkspacePathSchema = z.string().transform((raw, ctx) => {
  const value = raw.trim();
  const fail = (message: string): never => {
    ctx.addIssue({ code: 'custom', message: `${message} (got ${JSON.stringify(raw)})`, input: raw });
    return z.NEVER;
  };
  if (value === '') return fail('must not be empty');
  if (value.includes('\\')) return fail('must use "/" separators');
  if (value.startsWith('/') || /^[A-Za-z]:/.test(value)) return fail('must be relative to the repository, not absolute');
  if (value.split('/').includes('..')) return fail('must stay inside the repository (no "..")');
  const normalized = path.posix.normalize(value).replace(/\/$/, '');
  if (normalized === '.' || normalized === '') return fail('must name a file or directory inside the repository');
  return normalized;
});

/** One subtask as planned. Ids become part of work ids, so they are kept to a safe alphabet. */
export const PlannedSubtaskSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"'),
  title: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  instructions: z.string().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters'),
  files: z.array(WorkspacePathSchema).max(50, 'must list at most 50 files').default([]),
});
export type PlannedSubtask = z.infer<typeof PlannedSubtaskSchema>;

/** A whole plan: 1 to {@link MAX_SUBTASKS} subtasks with unique ids. */
export const PlanSchema = z
  .object({
    subtasks: z
      .array(PlannedSubtaskSchema)
      .min(1, 'must contain at least one subtask')
      .max(MAX_SUBTASKS, `must contain at most ${MAX_SUBTASKS} subtasks`),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.subtasks.forEach((subtask, i) => {
      if (seen.has(subtask.id)) {
        ctx.addIssue({ code: 'custom', path: ['subtasks', i, 'id'], message: `duplicate id "${subtask.id}"`, input: subtask.id });
      }
      seen.add(subtask.id);
    });
  });
export type Plan = z.infer<typeof PlanSchema>;

/** Error code of a plan reply that cannot be used. */
export const PLAN_REPLY_INVALID = 'PLAN_REPLY_INVALID';

/**
 * Parses the strategic model's plan reply. Throws a `UserError` (code
 * {@link PLAN_REPLY_INVALID}) whose message says what was wrong and quotes the reply.
 */
export function parsePlanReply(reply: string): Plan {
  const json = tryParseJson(extractJsonText(reply));
  if (!json.ok) {
    throw new UserError(PLAN_REPLY_INVALID, `the plan reply is not JSON (${json.error}); reply was ${quoteReply(reply)}`, {
      reason: 'invalid',
    });
  }
  const parsed = PlanSchema.safeParse(json.value);
  if (!parsed.success) {
    throw new UserError(
      PLAN_REPLY_INVALID,
      `the plan reply does not have the expected shape: ${formatIssues(parsed.error)}; reply was ${quoteReply(reply)}`,
      { reason: 'invalid' },
    );
  }
  return parsed.data;
}
