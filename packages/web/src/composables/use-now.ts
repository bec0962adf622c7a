/**
 * The current time as a ref that ticks, so ages ("12 s ago") move on without events.
 */
import { onBeforeUnmount, ref, type Ref } from 'vue';

/** `Date.now()`, refreshed every `everyMs`. @default 5000 */
export function useNow(everyMs = 5000): Ref<number> {
  const now = ref(Date.now());
  const timer = setInterval(() => {
    now.value = Date.now();
  }, everyMs);
  onBeforeUnmount(() => clearInterval(timer));
  return now;
}
