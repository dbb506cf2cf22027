import type { VirtualTopicConfig } from '../../config/virtual-topics.js';
import { BrokerMessage } from './message.js';
import type { Queue } from './queue.js';
import { matchesWildcard } from './wildcard.js';

/** `Consumer.*.` → a regex part: `*` one name part, `>` any parts, the rest literal. */
function pattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\>]/g, (c) => (c === '*' ? '[^.]+' : c === '>' ? '.+' : `\\${c}`));
}

interface Rule {
  config: VirtualTopicConfig;
  queueName: (topic: string) => RegExp;
}

/**
 * The consumer queues of virtual topics. A topic message is copied, with its
 * id, to each consumer queue that exists when it is sent; which queues those
 * are is cached per topic until a queue is created or removed.
 */
export class VirtualTopics {
  private readonly rules: Rule[];
  private readonly targets = new Map<string, Array<{ queue: Queue; rule: Rule }>>();

  constructor(configs: readonly VirtualTopicConfig[]) {
    this.rules = configs.map((config) => ({ config, queueName: (topic) => new RegExp(`^${pattern(config.prefix)}${pattern(topic)}${pattern(config.postfix)}$`) }));
  }

  /** Queues came or went: consumer queues are looked up again. */
  queuesChanged(): void {
    this.targets.clear();
  }

  /** The copies of a topic message for the consumer queues it goes to now. */
  copies(m: BrokerMessage, queues: ReadonlyMap<string, Queue>): Array<{ queue: Queue; message: BrokerMessage }> {
    if (this.rules.length === 0 || m.destination.temporary) return [];
    let targets = this.targets.get(m.destination.key);
    if (!targets) {
      targets = [];
      for (const rule of this.rules) {
        if (!matchesWildcard(rule.config.name, m.destination.name)) continue;
        const name = rule.queueName(m.destination.name);
        for (const q of queues.values()) if (!q.destination.temporary && name.test(q.destination.name)) targets.push({ queue: q, rule });
      }
      this.targets.set(m.destination.key, targets);
    }
    const out: Array<{ queue: Queue; message: BrokerMessage }> = [];
    for (const { queue, rule } of targets) {
      if (rule.config.local && m.brokerPath.length > 0) continue;
      const copy = new BrokerMessage({ ...m.toInit(), destination: queue.destination });
      if (rule.config.selectorAware && !queue.consumerList.some((c) => c.accepts(copy))) continue;
      out.push({ queue, message: copy });
    }
    return out;
  }
}
