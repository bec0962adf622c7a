/** The error both key stores throw when a new key's id is taken. */
import { UserError } from '@maestro/runtime';

/** A key with this id already exists (ids are random, so this is a retry or a bug). */
export function apiKeyExists(id: string): UserError {
  return new UserError('API_KEY_EXISTS', `an API key with id ${id} already exists`, { reason: 'already_exists' });
}
