import { randomBytes } from 'node:crypto';
import type { PartialBrokerConfig } from '../config/broker-config.js';
import { configError } from '../errors.js';
import { hashPassword } from '../security/password.js';

/** What `amq-sim cluster` adds to every broker's config to run a secured topology. */
export interface ClusterSecurity {
  /** Merged under each broker's own settings. */
  shared: PartialBrokerConfig;
  /** Query options every network connector URI gets (the bridge user's credentials). */
  networkOptions: Record<string, string>;
  /** Lines for the start-up table: who logs in with what. */
  credentials: string[];
  /** `user:password@` for the admin URLs printed, or ''. */
  adminUserInfo: string;
  /** The admin user and its plain password (`--secure`), for the cluster view to call the brokers; null without. */
  admin: { user: string; password: string } | null;
}

const secret = () => randomBytes(18).toString('base64url');

/**
 * The cluster's security from `--config` (settings for every broker) and
 * `--secure`: without it, bridges present a secret made for this cluster
 * (docs/SECURITY.md); with it, brokers take an `admin` and a `bridge` user
 * with generated passwords, bridges log in as `bridge`, admin endpoints ask
 * for `admin`.
 */
export function clusterSecurity(base: PartialBrokerConfig, secure: boolean): ClusterSecurity {
  const shared: PartialBrokerConfig = { ...base, bridgeAuthentication: { secret: secret(), ...base.bridgeAuthentication } };
  if (!secure) return { shared, networkOptions: {}, credentials: [], adminUserInfo: '', admin: null };
  if (base.plugins?.simpleAuthenticationPlugin || base.plugins?.jaasAuthenticationPlugin) {
    throw configError('CONFIG_INVALID', '--secure makes its own users: leave the authentication plugin out of --config, or give network connectors userName and password yourself');
  }
  const admin = secret();
  const bridge = secret();
  shared.plugins = {
    ...base.plugins,
    simpleAuthenticationPlugin: {
      users: [
        { username: 'admin', password: hashPassword(admin), groups: 'admins' },
        { username: 'bridge', password: hashPassword(bridge), groups: 'bridges' },
      ],
    },
  };
  shared.adminUser = 'admin';
  shared.adminPassword = hashPassword(admin);
  return {
    shared,
    networkOptions: { userName: 'bridge', password: bridge },
    credentials: [`Users: admin / ${admin} (clients, admin endpoints)   bridge / ${bridge} (network connectors)`],
    adminUserInfo: `admin:${admin}@`,
    admin: { user: 'admin', password: admin },
  };
}

/** `static:(stomp://a:1)?duplex=true` + {userName: 'b'} → `static:(stomp://a:1)?duplex=true&userName=b`. */
export function withNetworkOptions(uri: string, options: Record<string, string>): string {
  const query = new URLSearchParams(options).toString();
  if (query === '') return uri;
  return uri + (uri.slice(uri.lastIndexOf(')') + 1).includes('?') ? '&' : '?') + query;
}
