/** The `heart-beat` header: `cx,cy` in milliseconds (STOMP 1.1+, "Heart-beating"). */
export interface HeartBeat {
  /** Smallest interval at which the sender can send heart-beats; 0 = cannot. */
  send: number;
  /** Desired interval at which the sender wants to receive heart-beats; 0 = does not want. */
  receive: number;
}

const HEART_BEAT = /^\s*([0-9]+)\s*,\s*([0-9]+)\s*$/;

/** Returns null for a malformed value. */
export function parseHeartBeat(value: string | undefined, fallback: HeartBeat = { send: 0, receive: 0 }): HeartBeat | null {
  if (value === undefined) return fallback;
  const m = HEART_BEAT.exec(value);
  if (!m) return null;
  return { send: Number(m[1]), receive: Number(m[2]) };
}
