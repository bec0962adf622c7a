/**
 * The gateway's open server-sent-event streams, so a shutting-down gateway ends them instead of
 * waiting for clients that never leave, and the open-stream gauge can count them.
 */

/** Streams that are open now, so a shutting-down gateway can end them instead of waiting. */
export class OpenStreams {
  private readonly closers = new Set<() => void>();

  /** Remembers a stream's closer; returns the function that forgets it. */
  add(close: () => void): () => void {
    this.closers.add(close);
    return () => {
      this.closers.delete(close);
    };
  }

  /** How many streams are open. */
  get size(): number {
    return this.closers.size;
  }

  /** Ends every open stream (clients see the stream end and may reconnect elsewhere). */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
