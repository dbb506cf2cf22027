import type { SecurityUser } from '../config/security.js';
import { configError } from '../errors.js';
import { readProperties } from '../config/properties.js';
import { verifyPassword } from './password.js';

/** Who a connection is: its user name and groups (ActiveMQ's SecurityContext). */
export interface Subject {
  readonly user: string;
  readonly groups: ReadonlySet<string>;
}

/** The users a broker knows, with their passwords and groups. */
export class UserDirectory {
  private readonly users = new Map<string, { password: string; groups: Set<string> }>();

  constructor(users: readonly SecurityUser[]) {
    users.forEach((u, i) => {
      if (typeof u.username !== 'string' || typeof u.password !== 'string') throw configError('CONFIG_BAD_VALUE', `users[${i}]`, 'a user with a username and a password', JSON.stringify({ ...u, password: u.password === undefined ? undefined : '…' }));
      this.users.set(u.username, { password: u.password, groups: splitList(u.groups ?? '') });
    });
  }

  /**
   * JAAS PropertiesLoginModule's files: `users.properties` (`user=password`)
   * and `groups.properties` (`group=user1,user2`).
   */
  static fromProperties(usersFile: string, groupsFile: string): UserDirectory {
    const users = readProperties(usersFile);
    const groups = readProperties(groupsFile);
    const byUser = new Map<string, string[]>();
    for (const [group, members] of groups) for (const user of splitList(members)) byUser.set(user, [...(byUser.get(user) ?? []), group]);
    return new UserDirectory([...users].map(([username, password]) => ({ username, password, groups: (byUser.get(username) ?? []).join(',') })));
  }

  /** The subject for a user name and password, or null when they do not match. */
  async authenticate(username: string, password: string): Promise<Subject | null> {
    const u = this.users.get(username);
    if (!u || !(await verifyPassword(u.password, password))) return null;
    return { user: username, groups: u.groups };
  }
}

/** `a, b,c` → {a, b, c} */
export function splitList(text: string): Set<string> {
  return new Set(text.split(',').map((s) => s.trim()).filter((s) => s !== ''));
}
