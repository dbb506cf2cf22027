/** OpenWire's first frame: a 4-byte size, type 1 (WireFormatInfo), then the magic `ActiveMQ`. */
const MAGIC = Buffer.from('ActiveMQ');

/** Whether the first bytes of a connection are an ActiveMQ OpenWire client's (amq-sim speaks STOMP only). */
export function looksLikeOpenWire(first: Buffer): boolean {
  return first.length >= 13 && first[4] === 1 && first.subarray(5, 13).equals(MAGIC);
}
