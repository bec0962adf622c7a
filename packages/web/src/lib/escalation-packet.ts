/**
 * The failure packet of an escalation as the viewer shows it: the parts a person reads first
 * (the agent's account, the failing output, the diff, the files) pulled out of the packet, and
 * the whole packet as indented JSON. The packet is what the executor handed Orion; fields it
 * lacks are shown as absent, never guessed.
 */

/** What the escalation view shows of a packet. */
export interface PacketView {
  account: string;
  failingOutput: string;
  diff: string;
  filesChanged: string[];
  /** The whole packet, indented. */
  json: string;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The view of a packet; undefined when the escalation carries none. */
export function packetView(packet: Record<string, unknown> | null | undefined): PacketView | undefined {
  if (packet === null || packet === undefined || typeof packet !== 'object') return undefined;
  const files = packet['filesChanged'];
  return {
    account: text(packet['agentAccount']),
    failingOutput: text(packet['failingTestOutput']),
    diff: text(packet['lastDiff']),
    filesChanged: Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [],
    json: JSON.stringify(packet, null, 2),
  };
}
