/**
 * Reads from the gateway's public HTTP API (the only way the viewer gets data). Every call
 * throws an {@link ApiError} on failure, so views show what went wrong.
 */
import { asApiError, toApiError } from './api-error';
import { authHeaders, signOut } from './credentials';
import type { DefinitionVersion, LockTable, Run, Task, TaskUsage } from './types';

/** Query parameters; undefined and empty values are left out. */
type Query = Record<string, string | number | undefined>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** GETs JSON from the gateway (same origin) with the viewer's key, or with `key` when given (a sign-in being checked). */
export async function getJson<T>(path: string, what: string, query?: Query, key?: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(withQuery(path, query), { headers: { ...authHeaders(key), accept: 'application/json' } });
  } catch (err) {
    throw asApiError(err, what);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (err) {
    if (response.ok) throw asApiError(err, what);
    body = undefined;
  }
  if (!response.ok) {
    const error = toApiError(response.status, body, what);
    // A key the gateway refuses (revoked, wrong) is forgotten: the sign-in screen says why.
    if (response.status === 401 && key === undefined) signOut(error.message);
    throw error;
  }
  return body as T;
}

const id = (value: string): string => encodeURIComponent(value);

/** The gateway's read API, one function per route the viewer uses. */
export const gateway = {
  /** Checks a key before the viewer keeps it: any read it is allowed proves it. */
  checkKey: (key: string) => getJson<{ tasks: Task[] }>('/v1/tasks', 'signing in', { limit: 1 }, key),
  listTasks: (query: { status?: string; q?: string; limit?: number; pageToken?: string }) =>
    getJson<{ tasks: Task[]; nextPageToken: string }>('/v1/tasks', 'the task list', query),
  getTask: (taskId: string) => getJson<Task & { usage: TaskUsage | null }>(`/v1/tasks/${id(taskId)}`, `task ${taskId}`),
  getRun: (runId: string) => getJson<Run>(`/v1/runs/${id(runId)}`, `run ${runId}`),
  getDefinition: (name: string, version?: number) =>
    getJson<DefinitionVersion>(`/v1/definitions/${id(name)}`, `workflow definition ${name}`, { version: version && version > 0 ? version : undefined }),
  getLocks: (prefix?: string) => getJson<LockTable>('/v1/locks', 'the lock table', { prefix }),
};
