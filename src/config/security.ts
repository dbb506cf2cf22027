/**
 * Security settings, with the names of ActiveMQ's `<plugins>`:
 * simpleAuthenticationPlugin (users in the config), jaasAuthenticationPlugin
 * (JAAS users.properties / groups.properties), authorizationPlugin (entries
 * per destination), and amq-sim's own rule for who may act as a network
 * bridge.
 */
export interface SecurityUser {
  username: string;
  /** Plain, or hashed (`amq-sim hash-password`). */
  password: string;
  /** Comma-separated group names. */
  groups?: string;
}

export interface AnonymousAccess {
  /** A CONNECT without login and passcode is let in as `anonymousUser` in `anonymousGroup` (ActiveMQ default false). */
  anonymousAccessAllowed?: boolean;
  anonymousUser?: string;
  anonymousGroup?: string;
}

export interface SimpleAuthenticationPlugin extends AnonymousAccess {
  users: SecurityUser[];
}

export interface JaasAuthenticationPlugin extends AnonymousAccess {
  /** Path of `users.properties`: `user=password`. */
  users: string;
  /** Path of `groups.properties`: `group=user1,user2`. */
  groups: string;
}

/** Comma-separated groups allowed each action; `*` is everyone. */
export interface AuthorizationRights {
  read?: string;
  write?: string;
  admin?: string;
}

/** ActiveMQ's authorizationEntry: for a queue or topic name or wildcard. */
export interface AuthorizationEntry extends AuthorizationRights {
  queue?: string;
  topic?: string;
}

export interface AuthorizationPlugin {
  entries: AuthorizationEntry[];
  /** Rights on every temporary destination (ActiveMQ's tempDestinationAuthorizationEntry); absent: anyone. */
  tempDestinationAuthorizationEntry?: AuthorizationRights;
}

export interface PluginsConfig {
  simpleAuthenticationPlugin?: SimpleAuthenticationPlugin;
  jaasAuthenticationPlugin?: JaasAuthenticationPlugin;
  authorizationPlugin?: AuthorizationPlugin;
}

/**
 * Who may act as another broker's network bridge (bridge headers, message
 * metadata). With authentication: a user in one of `groups`. Without: a
 * connection that presents `secret` (amq-sim cluster makes one per cluster);
 * with no secret either, only connections from this host.
 */
export interface BridgeAuthentication {
  groups: string;
  secret: string | null;
}

export const DEFAULT_BRIDGE_AUTHENTICATION: Readonly<BridgeAuthentication> = { groups: 'bridges', secret: null };

/**
 * PEM files for TLS, as ActiveMQ's `<sslContext>` names a key store and a
 * trust store: this side's private key and certificate (chain), and the CA
 * certificates the other side's must chain to (none: the system's).
 */
export interface TlsFiles {
  keyFile: string | null;
  certFile: string | null;
  caFile: string | null;
}

export const NO_TLS_FILES: Readonly<TlsFiles> = { keyFile: null, certFile: null, caFile: null };
