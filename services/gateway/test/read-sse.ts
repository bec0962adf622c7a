/**
 * Reading a server-sent-event response in a test: chunks are decoded and gathered until the
 * text holds what the test waits for, or the stream ends (which is what some tests expect).
 */

/** Reads until `done` says enough or the stream ends; `ended` tells which. */
export async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<{ text: string; ended: boolean }> {
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const chunk = await reader.read();
    if (chunk.done) return { text, ended: true };
    text += decoder.decode(chunk.value, { stream: true });
  }
  return { text, ended: false };
}
