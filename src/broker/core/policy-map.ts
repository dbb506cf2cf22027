import type { DestinationLimits, DestinationPolicy, PolicyEntry } from '../../config/policy.js';
import type { Destination } from './destination.js';
import { isWildcard, matchesWildcard } from './wildcard.js';

/**
 * ActiveMQ's policyMap: the settings in force for a destination are the
 * broker's policy overlaid with the most specific matching entry (an exact
 * name before any wildcard, then the longer pattern, then the later entry).
 */
export class PolicyMap {
  private readonly cache = new Map<string, DestinationLimits>();

  constructor(
    private readonly policy: DestinationPolicy,
    private readonly entries: readonly PolicyEntry[],
  ) {}

  limitsFor(dest: Destination): DestinationLimits {
    let limits = this.cache.get(dest.key);
    if (!limits) {
      const entry = this.mostSpecific(dest);
      const p = this.policy;
      limits = {
        memoryLimit: entry?.memoryLimit ?? p.memoryLimit,
        producerFlowControl: entry?.producerFlowControl ?? p.producerFlowControl,
        maxPageSize: entry?.maxPageSize ?? p.maxPageSize,
        cursorMemoryHighWaterMark: entry?.cursorMemoryHighWaterMark ?? p.cursorMemoryHighWaterMark,
        pendingMessageLimit: entry?.pendingMessageLimit ?? p.pendingMessageLimit,
      };
      if (!dest.temporary) this.cache.set(dest.key, limits);
    }
    return limits;
  }

  private mostSpecific(dest: Destination): PolicyEntry | undefined {
    let best: PolicyEntry | undefined;
    let bestRank = -1;
    for (const entry of this.entries) {
      const pattern = dest.type === 'queue' ? entry.queue : entry.topic;
      if (pattern === undefined || !matchesWildcard(pattern, dest.name)) continue;
      const rank = isWildcard(pattern) ? pattern.length : Number.MAX_SAFE_INTEGER;
      if (rank >= bestRank) {
        best = entry;
        bestRank = rank;
      }
    }
    return best;
  }
}
