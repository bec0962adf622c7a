/**
 * The plan: the strategic model's split of a task into subtasks. Its reply must be JSON
 * (optionally in a ```json fence) of the shape
 * `{"subtasks":[{"id":"s1","title":"…","instructions":"…","files":["src/math.js"],"dependsOn":[],"resources":["port:3000"]}]}`.
 * `dependsOn` names subtasks that must succeed first (unknown ids and cycles are refused);
 * `resources` declares what else the subtask needs alone (`port:<n>`, `resource:<name>`,
 * `dir:<relative path>`). Together with `files` they become the subtask's concerns, by which
 * Orion schedules it (see `concern-schedule.ts`). A reply that does not parse or does not fit is
 * rejected with a reason that quotes what was wrong, so the failed run says why.
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

/**
 * A file a subtask will create or change: a {@link WorkspacePathSchema} path that keeps a
 * trailing `/` when the model wrote one, because `src/gen/` names a directory (its concern is
 * `dir:`), even one that does not exist yet.
 */
export const PlannedFileSchema = z.string().transform((raw, ctx) => {
  const parsed = WorkspacePathSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, input: raw });
    return z.NEVER;
  }
  return raw.trim().endsWith('/') ? `${parsed.data}/` : parsed.data;
});

/** Ids of subtasks: they become part of work ids, so they are kept to a safe alphabet. */
export const SubtaskIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"');

/** Most resources one subtask may declare. */
export const MAX_SUBTASK_RESOURCES = 20;

// The lock-manager's rules for names and ports, so a declared resource is one it accepts.
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;

/**
 * A resource a subtask needs to itself besides its files: `port:<1-65535>` (a TCP port its tests
 * listen on), `resource:<name>` (a database, a service under test …) or `dir:<path>` (a
 * directory relative to the repository, no `..`). Normalized: `port:03000` → `port:3000`,
 * `dir:./src/gen/` → `dir:src/gen`.
 */
export const PlannedResourceSchema = z.string().transform((raw, ctx) => {
  const value = raw.trim();
  const fail = (message: string): never => {
    ctx.addIssue({ code: 'custom', message: `${message} (got ${JSON.stringify(raw)})`, input: raw });
    return z.NEVER;
  };
  const colon = value.indexOf(':');
  const kind = colon < 0 ? '' : value.slice(0, colon);
  const name = value.slice(colon + 1);
  switch (kind) {
    case 'port': {
      const port = /^\d{1,5}$/.test(name) ? Number(name) : NaN;
      if (!(port >= 1 && port <= 65535)) return fail('port: needs a number 1..65535');
      return `port:${port}`;
    }
    case 'resource':
      if (!RESOURCE_NAME.test(name) || name.length > 200) {
        return fail('resource: needs a name of letters, digits and . _ : @ / + - (starting with a letter or digit, at most 200 characters)');
      }
      return `resource:${name}`;
    case 'dir': {
      const dir = WorkspacePathSchema.safeParse(name);
      if (!dir.success) return fail(`dir: needs a directory relative to the repository: ${dir.error.issues[0]?.message ?? 'invalid'}`);
      return `dir:${dir.data}`;
    }
    default:
      return fail('must be port:<number>, resource:<name> or dir:<relative path>');
  }
});

/** One subtask as planned. */
export const PlannedSubtaskSchema = z.object({
  id: SubtaskIdSchema,
  title: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  instructions: z.string().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters'),
  files: z.array(PlannedFileSchema).max(50, 'must list at most 50 files').default([]),
  /** Ids of subtasks that must succeed before this one starts. */
  dependsOn: z.array(z.string()).max(MAX_SUBTASKS, `must list at most ${MAX_SUBTASKS} subtasks`).default([]),
  /** What else it needs alone: ports, named resources, directories. */
  resources: z.array(PlannedResourceSchema).max(MAX_SUBTASK_RESOURCES, `must list at most ${MAX_SUBTASK_RESOURCES} resources`).default([]),
});
export type PlannedSubtask = z.infer<typeof PlannedSubtaskSchema>;

/**
 * The first dependency cycle among `subtasks`, as the ids along it (`["s1", "s2", "s1"]`), or
 * undefined. Only ids of the list are followed.
 */
export function findDependencyCycle(subtasks: ReadonlyArray<{ id: string; dependsOn: readonly string[] }>): string[] | undefined {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...trail.slice(trail.indexOf(id)), id];
    state.set(id, 'open');
    trail.push(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      if (!byId.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of subtasks) {
    const cycle = visit(s.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * A whole plan: 1 to {@link MAX_SUBTASKS} subtasks with unique ids, whose `dependsOn` name
 * other subtasks of the plan without a cycle.
 */
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
    let unknown = false;
    plan.subtasks.forEach((subtask, i) => {
      subtask.dependsOn.forEach((dep, j) => {
        if (seen.has(dep) && dep !== subtask.id) return;
        unknown = true;
        const message = dep === subtask.id ? `a subtask cannot depend on itself ("${dep}")` : `unknown subtask id "${dep}"; name the id of an earlier subtask of this plan`;
        ctx.addIssue({ code: 'custom', path: ['subtasks', i, 'dependsOn', j], message, input: dep });
      });
    });
    if (unknown) return;
    const cycle = findDependencyCycle(plan.subtasks);
    if (cycle) {
      const i = plan.subtasks.findIndex((s) => s.id === cycle[0]);
      ctx.addIssue({
        code: 'custom',
        path: ['subtasks', i, 'dependsOn'],
        message: `dependency cycle ${cycle.join(' → ')}; a subtask may only depend on earlier ones`,
        input: cycle,
      });
    }
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
