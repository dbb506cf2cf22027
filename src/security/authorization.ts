import type { AuthorizationPlugin, AuthorizationRights } from '../config/security.js';
import type { Destination } from '../broker/core/destination.js';
import { matchesWildcard } from '../broker/core/wildcard.js';
import type { Subject } from './users.js';
import { splitList } from './users.js';

export type Action = 'read' | 'write' | 'admin';

/** The group that stands for everyone in an entry (ActiveMQ's wildcard group). */
const EVERYONE = '*';

interface Entry {
  type: 'queue' | 'topic';
  pattern: string;
  rights: Record<Action, Set<string>>;
}

function rightsOf(r: AuthorizationRights): Record<Action, Set<string>> {
  return { read: splitList(r.read ?? ''), write: splitList(r.write ?? ''), admin: splitList(r.admin ?? '') };
}

/**
 * ActiveMQ's DefaultAuthorizationMap: the groups allowed an action on a
 * destination are those of every entry that matches it, together; a
 * destination no entry matches allows nobody. Temporary destinations follow
 * the temp entry, or anyone without one.
 */
export class AuthorizationMap {
  private readonly entries: Entry[];
  private readonly temp: Record<Action, Set<string>> | null;

  constructor(plugin: AuthorizationPlugin) {
    this.entries = [];
    for (const e of plugin.entries) {
      if (e.queue !== undefined) this.entries.push({ type: 'queue', pattern: e.queue, rights: rightsOf(e) });
      if (e.topic !== undefined) this.entries.push({ type: 'topic', pattern: e.topic, rights: rightsOf(e) });
    }
    this.temp = plugin.tempDestinationAuthorizationEntry ? rightsOf(plugin.tempDestinationAuthorizationEntry) : null;
  }

  allows(subject: Subject, action: Action, dest: Destination): boolean {
    if (dest.temporary) return this.temp === null || inOneOf(subject, this.temp[action]);
    for (const e of this.entries) {
      if (e.type === dest.type && matchesWildcard(e.pattern, dest.name) && inOneOf(subject, e.rights[action])) return true;
    }
    return false;
  }
}

function inOneOf(subject: Subject, groups: ReadonlySet<string>): boolean {
  if (groups.has(EVERYONE)) return true;
  for (const g of subject.groups) if (groups.has(g)) return true;
  return false;
}
