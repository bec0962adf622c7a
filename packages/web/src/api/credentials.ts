/**
 * The API key the viewer sends to the gateway (`Authorization: Bearer <key>`), kept in this
 * tab's sessionStorage only: it is gone when the tab closes and never goes into a URL. A 401
 * from the gateway signs the viewer out, with the gateway's reason for the sign-in screen.
 */
import { ref } from 'vue';

const STORAGE_KEY = 'maestro.apiKey';

function storage(): Storage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    // Storage can be switched off; the viewer then asks for the key on every load.
    return undefined;
  }
}

/** The current key (undefined: signed out) and why the last sign-out happened. */
export const credentials = {
  key: ref<string | undefined>(storage()?.getItem(STORAGE_KEY) ?? undefined),
  reason: ref(''),
};

/** Keeps `key` for this tab. */
export function signIn(key: string): void {
  credentials.key.value = key;
  credentials.reason.value = '';
  storage()?.setItem(STORAGE_KEY, key);
}

/** Forgets the key; `reason` is shown on the sign-in screen. */
export function signOut(reason = ''): void {
  credentials.key.value = undefined;
  credentials.reason.value = reason;
  storage()?.removeItem(STORAGE_KEY);
}

/** The credentials header for a gateway request, or nothing when signed out. */
export function authHeaders(key: string | undefined = credentials.key.value): Record<string, string> {
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}
