import { credentials, signIn } from './credentials';
import { openEventStream, StreamStates, type EventSourceLike, type StreamEvent, type StreamState } from './event-stream';

class FakeSource implements EventSourceLike {
  readyState = 0;
  onopen: ((event: Event) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  closed = false;
  readonly listeners = new Map<string, (event: MessageEvent) => void>();
  addEventListener(name: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(name, listener);
  }
  close(): void {
    this.closed = true;
  }
  emit(name: string, data: string): void {
    this.listeners.get(name)?.({ data } as MessageEvent);
  }
}

function open(): { source: FakeSource; events: StreamEvent[]; states: StreamState[]; close: () => void } {
  const source = new FakeSource();
  const events: StreamEvent[] = [];
  const states: StreamState[] = [];
  const close = openEventStream({ url: '/x', events: ['run.transitioned'], onEvent: (e) => events.push(e), onState: (s) => states.push(s), create: () => source });
  return { source, events, states, close };
}

describe('openEventStream', () => {
  it('passes named events with JSON object data and skips anything else', () => {
    const { source, events } = open();
    source.emit('run.transitioned', '{"state":"plan"}');
    source.emit('run.transitioned', 'not json');
    source.emit('run.transitioned', '[1]');
    expect(events).toEqual([{ name: 'run.transitioned', data: { state: 'plan' } }]);
  });

  it('reports live, reconnecting, and closed when the browser gives up', () => {
    const { source, states } = open();
    source.onopen?.({} as Event);
    source.readyState = 0;
    source.onerror?.({} as Event);
    source.readyState = 2;
    source.onerror?.({} as Event);
    expect(states).toEqual([StreamStates.connecting, StreamStates.live, StreamStates.reconnecting, StreamStates.closed]);
  });

  it('closes the source once and ignores events after', () => {
    const { source, events, states, close } = open();
    close();
    close();
    source.emit('run.transitioned', '{"a":1}');
    expect(source.closed).toBe(true);
    expect(events).toEqual([]);
    expect(states.filter((s) => s === StreamStates.closed)).toHaveLength(1);
  });

  it('closes and signs out when the gateway ends the stream because the key was revoked', () => {
    signIn('mk_test');
    const { source, events, states } = open();
    source.emit('unauthenticated', '{"code":"UNAUTHENTICATED","message":"credentials revoked"}');
    source.emit('run.transitioned', '{"a":1}');
    expect(source.closed).toBe(true);
    expect(events).toEqual([]);
    expect(states[states.length - 1]).toBe(StreamStates.closed);
    expect(credentials.key.value).toBeUndefined();
    expect(credentials.reason.value).toBe('the live stream ended: credentials revoked');
  });
});
