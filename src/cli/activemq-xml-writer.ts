/**
 * The other way: an activemq.xml from an amq-sim config (`amq-sim config
 * to-xml`), with the elements readActiveMqXml reads, so that the two formats
 * stay interchangeable. amq-sim-only settings (admin endpoint, bridge
 * authentication, the broker-wide policy defaults) have no ActiveMQ element
 * and are left out, listed in a comment.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import { DEFAULT_POLICY, type DestinationPolicy, type PolicyEntry } from '../config/policy.js';
import type { PluginsConfig } from '../config/security.js';
import { DEFAULT_VIRTUAL_TOPIC } from '../config/virtual-topics.js';

const escape = (v: string | number | boolean) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function element(name: string, attrs: Record<string, string | number | boolean | null | undefined>, children: string[] = [], indent = ''): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => ` ${k}="${escape(v!)}"`)
    .join('');
  if (children.length === 0) return `${indent}<${name}${a}/>`;
  return `${indent}<${name}${a}>\n${children.join('\n')}\n${indent}</${name}>`;
}

function plugins(p: PluginsConfig, indent: string): string[] {
  const out: string[] = [];
  const i2 = indent + '  ';
  const i3 = i2 + '  ';
  if (p.simpleAuthenticationPlugin) {
    const s = p.simpleAuthenticationPlugin;
    out.push(element('simpleAuthenticationPlugin', { anonymousAccessAllowed: s.anonymousAccessAllowed, anonymousUser: s.anonymousUser, anonymousGroup: s.anonymousGroup }, [element('users', {}, s.users.map((u) => element('authenticationUser', { username: u.username, password: u.password, groups: u.groups }, [], i3)), i2)], indent));
  }
  if (p.authorizationPlugin) {
    const a = p.authorizationPlugin;
    const i4 = i3 + '  ';
    const entries = element('authorizationEntries', {}, a.entries.map((e) => element('authorizationEntry', { queue: e.queue, topic: e.topic, read: e.read, write: e.write, admin: e.admin }, [], i4 + '  ')), i4);
    const temp = a.tempDestinationAuthorizationEntry ? [element('tempDestinationAuthorizationEntry', {}, [element('tempDestinationAuthorizationEntry', { ...a.tempDestinationAuthorizationEntry }, [], i4 + '  ')], i4)] : [];
    out.push(element('authorizationPlugin', {}, [element('map', {}, [element('authorizationMap', {}, [entries, ...temp], i3)], i2)], indent));
  }
  return out;
}

/** The config's entries, with one for every queue (`>`) when the broker-wide policy differs from ActiveMQ's defaults: that is where activemq.xml says it. */
function policyEntries(c: BrokerConfig): PolicyEntry[] {
  const differs = (Object.keys(DEFAULT_POLICY) as Array<keyof DestinationPolicy>).some((k) => c.policy[k] !== DEFAULT_POLICY[k]);
  return differs && !c.policyEntries.some((e) => e.queue === '>') ? [...c.policyEntries, { queue: '>' }] : c.policyEntries;
}

function policyEntry(entry: PolicyEntry, c: BrokerConfig, indent: string): string {
  const { pendingMessageLimit, ...e } = entry;
  const limit = pendingMessageLimit === undefined ? [] : [element('pendingMessageLimitStrategy', {}, [element('constantPendingMessageLimitStrategy', { limit: pendingMessageLimit }, [], indent + '    ')], indent + '  ')];
  if (e.queue !== '>') return element('policyEntry', { ...e }, limit, indent);
  const p = c.policy;
  const strategy = p.deadLetterStrategy === 'individual'
    ? element('individualDeadLetterStrategy', { queuePrefix: p.deadLetterQueuePrefix, topicPrefix: p.deadLetterTopicPrefix, processExpired: p.processExpired, processNonPersistent: p.processNonPersistent }, [], indent + '    ')
    : element('sharedDeadLetterStrategy', { processExpired: p.processExpired, processNonPersistent: p.processNonPersistent }, [], indent + '    ');
  const attrs = { ...e, queuePrefetch: p.queuePrefetch, topicPrefetch: p.topicPrefetch, durableTopicPrefetch: p.durableTopicPrefetch, expireMessagesPeriod: p.expireMessagesPeriod, prioritizedMessages: p.prioritizedMessages };
  return element('policyEntry', attrs, [element('deadLetterStrategy', {}, [strategy], indent + '  '), ...limit], indent);
}

export function toActiveMqXml(c: BrokerConfig): string {
  const i1 = '    ';
  const i2 = i1 + '  ';
  const i3 = i2 + '  ';
  const i4 = i3 + '  ';
  const s = c.store;
  const l = c.locker;
  const u = c.systemUsage;
  const children: string[] = [
    element('persistenceAdapter', {}, [
      element('kahaDB', {
        directory: s.directory,
        journalMaxFileLength: s.journalMaxFileLength,
        journalDiskSyncStrategy: s.journalDiskSyncStrategy.toUpperCase(),
        journalDiskSyncInterval: s.journalDiskSyncInterval,
        checkpointInterval: s.checkpointInterval,
        cleanupInterval: s.cleanupInterval,
        checkForCorruptJournalFiles: s.checkForCorruptJournalFiles,
        lockKeepAlivePeriod: l.lockKeepAlivePeriod,
        useLock: l.useLock,
      }, [element('locker', {}, [element('shared-file-locker', { lockAcquireSleepInterval: l.lockAcquireSleepInterval, failIfLocked: l.failIfLocked }, [], i4)], i3)], i2),
    ], i1),
    element('systemUsage', {}, [
      element('systemUsage', { sendFailIfNoSpace: u.sendFailIfNoSpace, sendFailIfNoSpaceAfterTimeout: u.sendFailIfNoSpaceAfterTimeout }, (['memoryUsage', 'storeUsage', 'tempUsage'] as const).map((k) => element(k, {}, [element(k, { limit: u[k].limit }, [], i4 + '  ')], i4)), i2),
    ], i1),
    element('transportConnectors', {}, c.transportConnectors.map((uri) => element('transportConnector', { name: uri.slice(0, uri.indexOf(':')), uri }, [], i2)), i1),
  ];
  const entries = policyEntries(c);
  if (entries.length > 0) {
    children.push(element('destinationPolicy', {}, [element('policyMap', {}, [element('policyEntries', {}, entries.map((e) => policyEntry(e, c, i4 + '  ')), i4)], i2 + '  ')], i1));
  }
  if (c.networkConnectors.length > 0) children.push(element('networkConnectors', {}, c.networkConnectors.map((uri) => element('networkConnector', { uri }, [], i2)), i1));
  if (JSON.stringify(c.virtualTopics) !== JSON.stringify([DEFAULT_VIRTUAL_TOPIC])) {
    const topics = c.virtualTopics.map((v) => element('virtualTopic', { ...v }, [], i4 + '  '));
    children.push(element('destinationInterceptors', {}, [element('virtualDestinationInterceptor', {}, [element('virtualDestinations', {}, topics, i3)], i2)], i1));
  }
  const p = plugins(c.plugins, i2);
  if (p.length > 0) children.push(element('plugins', {}, p, i1));
  const ssl = c.sslContext;
  if (ssl.keyFile || ssl.certFile || ssl.caFile) children.push(element('sslContext', {}, [element('sslContext', { keyFile: ssl.keyFile, certFile: ssl.certFile, caFile: ssl.caFile }, [], i2)], i1));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Written by amq-sim config to-xml. amq-sim settings without an ActiveMQ element are left out: the admin endpoint and its credentials, bridgeAuthentication, the policy settings activemq.xml has no attribute for (maximumRedeliveries, retroactive messages, nack handling, network redelivery affinity), tempDirectory, schedulerStartRounding. -->',
    '<beans xmlns="http://www.springframework.org/schema/beans">',
    element('broker', { xmlns: 'http://activemq.apache.org/schema/core', brokerName: c.brokerName, persistent: c.persistent, schedulerSupport: c.schedulerSupport || undefined }, children, '  '),
    '</beans>',
    '',
  ].join('\n');
}
