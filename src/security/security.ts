import type { BridgeAuthentication, PluginsConfig } from '../config/security.js';
import { type Destination, qualifiedName } from '../broker/core/destination.js';
import { configError, protocolError } from '../errors.js';
import { type Action, AuthorizationMap } from './authorization.js';
import { sameSecret } from './password.js';
import { type Subject, splitList, UserDirectory } from './users.js';

/** Who a connection is when nobody is asked (authentication off). */
const NOBODY: Subject = { user: '', groups: new Set() };

/** Verbs of ActiveMQ's SecurityException texts, by action. */
const DENIED: Record<Action | 'create', string> = { read: 'read from', write: 'write to', admin: 'administer', create: 'create' };

/**
 * The broker's security, as ActiveMQ's plugins give it: who may connect
 * (authentication), what each may do with which destination
 * (authorization), and who may act as another broker's bridge. With no
 * plugin configured everyone may do everything, as in ActiveMQ.
 */
export class Security {
  private readonly users: UserDirectory | null;
  private readonly anonymous: Subject | null;
  private readonly authorization: AuthorizationMap | null;
  private readonly bridgeGroups: ReadonlySet<string>;

  constructor(
    plugins: PluginsConfig,
    private readonly bridges: BridgeAuthentication,
  ) {
    const simple = plugins.simpleAuthenticationPlugin;
    const jaas = plugins.jaasAuthenticationPlugin;
    if (simple && jaas) throw configError('CONFIG_INVALID', 'Configure one authentication plugin: simpleAuthenticationPlugin or jaasAuthenticationPlugin');
    this.users = simple ? new UserDirectory(simple.users) : jaas ? UserDirectory.fromProperties(jaas.users, jaas.groups) : null;
    const access = simple ?? jaas;
    this.anonymous = access?.anonymousAccessAllowed ? { user: access.anonymousUser ?? 'anonymous', groups: new Set([access.anonymousGroup ?? 'anonymous']) } : null;
    this.authorization = plugins.authorizationPlugin ? new AuthorizationMap(plugins.authorizationPlugin) : null;
    this.bridgeGroups = splitList(bridges.groups);
  }

  get authenticates(): boolean {
    return this.users !== null;
  }

  /**
   * CONNECT's login and passcode: the subject, or ActiveMQ's refusal. A
   * promise when a password must be checked (see verifyPassword).
   */
  authenticate(login: string | undefined, passcode: string | undefined): Subject | Promise<Subject> {
    if (!this.users) return login !== undefined ? { user: login, groups: new Set() } : NOBODY;
    if (login === undefined && passcode === undefined && this.anonymous) return this.anonymous;
    if (login === undefined || passcode === undefined) throw protocolError('STOMP_AUTHENTICATION_FAILED', login ?? 'null');
    return this.users.authenticate(login, passcode).then((subject) => {
      if (!subject) throw protocolError('STOMP_AUTHENTICATION_FAILED', login);
      return subject;
    });
  }

  /**
   * Throws ActiveMQ's SecurityException text unless `subject` may act on
   * `dest`; using a destination that does not exist yet creates it, which
   * takes admin rights too.
   */
  authorize(subject: Subject, action: 'read' | 'write', dest: Destination, exists: boolean): void {
    const map = this.authorization;
    if (!map) return;
    if (!exists && !map.allows(subject, 'admin', dest)) throw protocolError('STOMP_NOT_AUTHORIZED', subject.user, DENIED.create, qualifiedName(dest));
    if (!map.allows(subject, action, dest)) throw protocolError('STOMP_NOT_AUTHORIZED', subject.user, DENIED[action], qualifiedName(dest));
  }

  /**
   * Whether a connection may act as another broker's network bridge: a user
   * in a bridge group when users are configured; otherwise one that presents
   * the bridge secret; with no secret, one from this host.
   */
  mayBridge(subject: Subject, secret: string | undefined, fromLoopback: boolean): boolean {
    if (this.users) return [...subject.groups].some((g) => this.bridgeGroups.has(g));
    if (this.bridges.secret !== null) return secret !== undefined && sameSecret(this.bridges.secret, secret);
    return fromLoopback;
  }
}
