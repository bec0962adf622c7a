/**
 * ListRuns' opaque page tokens: the id of the last run of the page (the store continues after
 * it in (created_at, id) order) plus the filters the page was listed with, base64url-encoded.
 * A token used with other filters would skip or repeat runs, so it is rejected naming
 * `page_token`.
 */
import { invalidField } from '@maestro/runtime';
import { isUuid } from '../../domain/index.js';

/** The filters a page was listed with. */
export interface RunPageFilters {
  status?: string;
  definitionName?: string;
  definitionVersion?: number;
}

interface TokenBody {
  /** Continue after this run. */
  a: string;
  /** The filters, as [status, definitionName, definitionVersion]. */
  f: [string, string, number];
}

function filtersOf(filters: RunPageFilters): TokenBody['f'] {
  return [filters.status ?? '', filters.definitionName ?? '', filters.definitionVersion ?? 0];
}

/** The token of the page after the run `afterId`, for the same filters. */
export function encodeRunPageToken(afterId: string, filters: RunPageFilters): string {
  const body: TokenBody = { a: afterId, f: filtersOf(filters) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** The run id to continue after; INVALID_ARGUMENT on `page_token` for a token that is not ours or was issued for other filters. */
export function decodeRunPageToken(token: string, filters: RunPageFilters): string {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    body = undefined;
  }
  const parsed = body as Partial<TokenBody> | undefined;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.a !== 'string' || !isUuid(parsed.a) || !Array.isArray(parsed.f)) {
    throw invalidField('page_token', 'is not a page token of ListRuns; pass the next_page_token of the previous page unchanged');
  }
  if (JSON.stringify(parsed.f) !== JSON.stringify(filtersOf(filters))) {
    throw invalidField('page_token', 'was issued for other filters (status, definition_name, definition_version); keep the filters, or start again without page_token');
  }
  return parsed.a;
}
