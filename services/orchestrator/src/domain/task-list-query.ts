/**
 * A ListTasks request, validated: page size, status and goal filters, and the page token, an
 * opaque keyset cursor on (created_at, id) newest first. The cursor holds the last listed task's
 * creation time exactly as PostgreSQL keeps it (microseconds, UTC text), so a page never skips or
 * repeats a task created in the same millisecond as another. Pure; the store runs the query.
 */
import { TaskLimits } from '@maestro/contracts';
import { invalidField } from '@maestro/runtime';
import { isUuid } from './uuid.js';
import { isTaskStatus, TaskStatuses, type TaskStatus } from './task.js';

/** Page sizes and the longest goal search. */
export const TaskListLimits = {
  /** Page size when the request asks for 0. */
  defaultLimit: 50,
  /** Largest page. */
  maxLimit: 500,
  /** Longest `goal_contains` (shared with the gateway's `q`). */
  goalContainsMaxChars: TaskLimits.goalContainsMaxChars,
} as const;

/** Where the previous page ended: the last task's creation time (PostgreSQL's exact text, UTC) and id. */
export interface TaskListCursor {
  createdAt: string;
  id: string;
}

/** What a ListTasks request asks for, as the gRPC message has it. */
export interface TaskListInput {
  limit: number;
  status: string;
  goalContains?: string;
  pageToken?: string;
}

/** A valid listing: filters, size and where to start. */
export interface TaskListQuery {
  /** Only this tenant's tasks. @default every tenant's */
  tenant?: string;
  limit: number;
  status?: TaskStatus;
  /** Case-insensitive substring of the goal; `%`, `_` and `\` match themselves. */
  goalContains?: string;
  /** Tasks strictly older than this position (by created_at, then id). */
  before?: TaskListCursor;
}

/** Validates a request, naming the field at fault. */
export function validateTaskListQuery(input: TaskListInput): TaskListQuery {
  if (!Number.isInteger(input.limit) || input.limit < 0) throw invalidField('limit', 'must be a positive number');
  if (input.limit > TaskListLimits.maxLimit) throw invalidField('limit', `must be at most ${TaskListLimits.maxLimit}`);
  const status = input.status.trim();
  if (status !== '' && !isTaskStatus(status)) {
    throw invalidField('status', `must be one of ${Object.values(TaskStatuses).join(', ')}, got "${status}"`);
  }
  const goal = (input.goalContains ?? '').trim();
  if (goal.length > TaskListLimits.goalContainsMaxChars) {
    throw invalidField('goal_contains', `is ${goal.length} characters; at most ${TaskListLimits.goalContainsMaxChars} are allowed`);
  }
  if (goal.includes('\u0000')) throw invalidField('goal_contains', 'must not contain NUL characters');
  const token = input.pageToken ?? '';
  return {
    limit: input.limit === 0 ? TaskListLimits.defaultLimit : input.limit,
    ...(status !== '' ? { status: status as TaskStatus } : {}),
    ...(goal !== '' ? { goalContains: goal } : {}),
    ...(token !== '' ? { before: decodeTaskListCursor(token) } : {}),
  };
}

/** The ILIKE pattern matching `text` anywhere, its wildcards and the escape character escaped (escape `\`). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The page token of the next page, after `cursor`. */
export function encodeTaskListCursor(cursor: TaskListCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt, i: cursor.id }), 'utf8').toString('base64url');
}

/** PostgreSQL's UTC text of a timestamptz as the store selects it (`YYYY-MM-DDTHH:MM:SS.ffffffZ`). */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const badToken = () => invalidField('page_token', 'is not a page token this service issued; pass the next_page_token of the previous page, or nothing for the first page');

/** Reads a token made by {@link encodeTaskListCursor}; INVALID_ARGUMENT on `page_token` for anything else. */
export function decodeTaskListCursor(token: string): TaskListCursor {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badToken();
  }
  if (typeof position !== 'object' || position === null || Array.isArray(position)) throw badToken();
  const { t, i } = position as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || !CURSOR_TIME.test(t) || Number.isNaN(Date.parse(t))) throw badToken();
  if (typeof i !== 'string' || !isUuid(i)) throw badToken();
  return { createdAt: t, id: i };
}
