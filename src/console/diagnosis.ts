/**
 * "Why is this message not moving?": a plain-language reading of a queue's
 * live state on one broker — its consumers (local ones, and the network
 * consumers other brokers' bridges made), their prefetch and selectors, the
 * bridges, producer flow control — as `amq-sim why` and the console's Why?
 * button show it.
 */
import type { Consumer } from '../broker/core/consumer.js';
import type { Destination } from '../broker/core/destination.js';
import type { MessageRouter } from '../broker/core/router.js';
import type { BridgeView } from './bridge-view.js';

/** How many pending messages memory holds that the diagnosis tries against the consumers. */
const SAMPLE = 100;

export interface Diagnosis {
  destination: string;
  pending: number;
  consumers: { local: number; network: number };
  findings: string[];
}

function list(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

export function diagnose(router: MessageRouter, dest: Destination, bridges: readonly BridgeView[], brokerName: string): Diagnosis {
  const queue = router.queues.get(dest.key);
  if (!queue) return { destination: dest.key, pending: 0, consumers: { local: 0, network: 0 }, findings: [`There is no queue ${dest.name} on ${brokerName}: nothing was sent to it here, or it was deleted.`] };
  const consumers = queue.consumerList;
  const local = consumers.filter((c) => c.affinity === null);
  const network = consumers.filter((c) => c.affinity !== null);
  const d: Diagnosis = { destination: dest.key, pending: queue.size, consumers: { local: local.length, network: network.length }, findings: [] };
  const say = (s: string) => d.findings.push(s);

  if (router.flowControl.isHolding(dest)) say(`Producers to ${dest.name} are held by producer flow control: a memory, store or temp limit is reached (see the broker's usage), and they wait until consumers make room.`);
  if (local.length === 0) {
    for (const remote of new Set(network.map((c) => c.affinity!))) {
      const bridge = bridges.find((b) => b.remoteBrokerName === remote);
      if (bridge && (bridge.state !== 'up' || bridge.fault)) {
        say(`The only consumers of ${dest.name} are on ${remote}, reached through bridge ${bridge.name}, which is ${bridge.fault ? `${bridge.state} with a ${bridge.fault.kind} fault` : bridge.state} (${bridge.inFlight} forwarded messages unacknowledged on it): nothing moves until it is healed.`);
      }
    }
  }
  if (queue.size === 0) {
    if (d.findings.length === 0) say(`Nothing is waiting on ${dest.name}: what was sent has been consumed${consumers.length === 0 ? ' (and nobody consumes now)' : ''}.`);
    return d;
  }
  const sample = queue.pending.toArray().slice(0, SAMPLE);
  const forwarded = sample.filter((m) => m.brokerPath.length > 0);
  if (consumers.length === 0) {
    say(`${queue.size} messages wait on ${dest.name} and nobody wants them: no consumer on ${brokerName}, and no other broker has asked for ${dest.name} over a bridge.`);
    if (forwarded.length > 0) {
      const from = [...new Set(forwarded.map((m) => m.brokerPath[m.brokerPath.length - 1]))];
      say(`Some came over a bridge from ${list(from)}: their consumers there have left. With replayWhenNoConsumers=false (ActiveMQ's default) they stay on ${brokerName} until a consumer connects here; with replayWhenNoConsumers=true they go back to a broker that has consumers.`);
    }
    return d;
  }

  const withRoom = consumers.filter((c: Consumer) => c.hasCapacity());
  if (withRoom.length === 0) {
    say(`Every consumer's prefetch is full (${consumers.length} consumers, none has room): they have not acknowledged what they were given — slow, stuck, or using client acknowledgement without sending ACKs.`);
    return d;
  }
  const taken = sample.filter((m) => withRoom.some((c) => c.accepts(m)));
  if (taken.length === 0) {
    const networkOnly = withRoom.every((c) => c.affinity !== null);
    if (networkOnly && forwarded.length > 0) {
      say(`The bridges to ${list([...new Set(withRoom.map((c) => c.affinity!))])} would forward ${dest.name}, but the waiting messages have already crossed the brokers they may (networkTTL / messageTTL exhausted, or they came from there): they stay on ${brokerName}.`);
    } else {
      say(`None of the ${withRoom.length} consumers with room takes the first ${sample.length} waiting messages: their selectors or filters match none of them.`);
    }
  }
  if (d.findings.length === 0) say(`${dest.name} has ${local.length} local and ${network.length} network consumers with room that take its messages: it is moving, ${queue.size} waiting.`);
  return d;
}
