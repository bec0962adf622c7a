/**
 * Waiting in a test for something to become true (a process to listen, an event to arrive):
 * polls `probe` and bounds the wait. The bound is there so a broken run ends; it asserts nothing
 * about time, so it is generous for a loaded machine.
 */

/** Polls `probe` every 100 ms until it holds; throws `timed out waiting for <what>` past `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  await waitFor(what, async () => ((await probe()) ? true : undefined), timeoutMs);
}

/** Polls `probe` every 100 ms until it returns a value, and returns it; throws `timed out waiting for <what>` past `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
