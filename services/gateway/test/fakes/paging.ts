/**
 * Offset paging as the real services page (an opaque token; an unknown one is refused naming
 * `page_token`), shared by the in-process fakes.
 */
import { invalidField } from '@maestro/runtime';

/** One page of `items` from `token` on; `next` is '' on the last page. */
export function pageOf<T>(items: readonly T[], limit: number, token: string): { page: T[]; next: string } {
  let start = 0;
  if (token !== '') {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!/^offset:\d+$/.test(decoded)) throw invalidField('page_token', 'is not a token this service issued');
    start = Number(decoded.slice('offset:'.length));
  }
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  return { page, next: end < items.length ? Buffer.from(`offset:${end}`, 'utf8').toString('base64url') : '' };
}
