/**
 * The two headers between our adapters and the fake provider servers of `@maestro/testing`,
 * declared once: a fake server labels every reply it replays from a script, and an adapter may
 * forward the call's intent so a script can match its rules on it. Real providers never send
 * the label, and adapters forward the intent only when told to (`forwardIntent`).
 */
export const FakeServerHeaders = {
  /** On a reply: `scripted` when a fake server replayed it; the adapter then says `scripted: true`. */
  reply: 'x-maestro-fake',
  /** On a request: the call's intent (`plan`, `code` …), for scripts that match on it. */
  intent: 'x-maestro-intent',
} as const;

/** The value of {@link FakeServerHeaders.reply} on a scripted reply. */
export const SCRIPTED_REPLY = 'scripted';
