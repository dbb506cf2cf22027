/**
 * An ActiveMQ 5.x activemq.xml (Spring XML, `<beans>` around `<broker>`) as
 * an amq-sim broker config, with ActiveMQ's meanings: placeholders from
 * PropertyPlaceholderConfigurer's files, ActiveMQ's directories and the
 * environment; KahaDB, locker, transport and network connectors, policy
 * entries, systemUsage, security plugins, sslContext. What amq-sim does not
 * do is listed (once, by the caller, in a WARN line), never fatal; a bad
 * value names the file, line and element.
 */
import { dirname, join, resolve } from 'node:path';
import { parseTransportUri } from '../broker/connector-uri.js';
import type { PartialBrokerConfig } from '../config/broker-config.js';
import type { PolicyEntry } from '../config/policy.js';
import { readProperties } from '../config/properties.js';
import type { AuthorizationEntry, PluginsConfig } from '../config/security.js';
import { parseSize } from '../config/size.js';
import { DEFAULT_VIRTUAL_TOPIC } from '../config/virtual-topics.js';
import { activemqProperties, resolvePlaceholders } from '../config/xml/placeholders.js';
import { parseXml, type XmlElement } from '../config/xml/xml-tree.js';
import { configError } from '../errors.js';
import { ACCEPTED_NETWORK_OPTIONS, NETWORK_DEFAULTS, parseNetworkUri } from '../network/connector-config.js';
import { SYNC_STRATEGIES, type SyncStrategy } from '../store/sync-policy.js';

export interface XmlConfig {
  config: PartialBrokerConfig;
  /** Elements and attributes amq-sim does not honour, as `<broker>/<plugins>/<statisticsBrokerPlugin>` and `<broker advisorySupport>`. */
  ignored: string[];
}

/** Read without a word: they change nothing a simulator shows. */
const QUIET = new Set(['broker@useJmx', 'broker/managementContext', 'broker@xmlns']);

/** networkConnector attributes amq-sim honours (the rest of ActiveMQ's are listed as ignored). */
const NETWORK_ATTRIBUTES = new Set([
  ...Object.keys(NETWORK_DEFAULTS),
  'networkTTL', 'messageTTL', 'consumerTTL', 'userName', 'password', ...ACCEPTED_NETWORK_OPTIONS,
]);
const DESTINATION_LISTS = ['dynamicallyIncludedDestinations', 'excludedDestinations', 'staticallyIncludedDestinations'];

class Reader {
  private readonly used = new Set<XmlElement>();
  private readonly usedAttributes = new Map<XmlElement, Set<string>>();

  constructor(
    readonly file: string,
    private readonly properties: Map<string, string>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  fail(el: XmlElement, what: string): never {
    throw configError('CONFIG_FILE', this.file, `line ${el.line}, <${el.name}>: ${what}`);
  }

  resolve(el: XmlElement, text: string): string {
    const r = resolvePlaceholders(text, this.properties, this.env);
    if (r.unresolved.length > 0) this.fail(el, `no value for \${${r.unresolved.join('}, ${')}} (set it in the environment or a properties file of the PropertyPlaceholderConfigurer)`);
    return r.value;
  }

  addProperties(map: Map<string, string>): void {
    for (const [k, v] of map) if (!this.properties.has(k)) this.properties.set(k, v);
  }

  /** Marks an element read; its children are read by whoever takes them. */
  take(el: XmlElement): XmlElement {
    this.used.add(el);
    return el;
  }

  /** Children of a name (taken). */
  children(el: XmlElement, name: string): XmlElement[] {
    return el.children.filter((c) => c.name === name).map((c) => this.take(c));
  }

  child(el: XmlElement, name: string): XmlElement | undefined {
    return this.children(el, name)[0];
  }

  /** An attribute's value, placeholders resolved (marked read). */
  attr(el: XmlElement, name: string): string | undefined {
    const raw = el.attributes.get(name);
    if (raw === undefined) return undefined;
    let set = this.usedAttributes.get(el);
    if (!set) this.usedAttributes.set(el, (set = new Set()));
    set.add(name);
    return this.resolve(el, raw);
  }

  bool(el: XmlElement, name: string): boolean | undefined {
    const v = this.attr(el, name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') this.fail(el, `${name}="${v}" is not true or false`);
    return v === 'true';
  }

  number(el: XmlElement, name: string): number | undefined {
    const v = this.attr(el, name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) this.fail(el, `${name}="${v}" is not a number`);
    return n;
  }

  size(el: XmlElement, name: string): number | undefined {
    const v = this.attr(el, name);
    if (v === undefined) return undefined;
    try {
      return parseSize(v) ?? undefined;
    } catch {
      this.fail(el, `${name}="${v}" is not a size such as 64 mb`);
    }
  }

  /** Everything under `root` nobody read: `<broker>/<plugins>/<x>` for elements, `<broker>/<x> attr` for attributes. */
  unread(root: XmlElement): string[] {
    const out: string[] = [];
    const walk = (el: XmlElement, path: string) => {
      const attrs = this.usedAttributes.get(el);
      for (const a of el.attributes.keys()) if (!attrs?.has(a) && !QUIET.has(`${path}@${a}`)) out.push(`<${path} ${a}>`);
      for (const c of el.children) {
        const childPath = `${path}/${c.name}`;
        if (this.used.has(c)) walk(c, childPath);
        else if (!QUIET.has(childPath)) out.push(`<${childPath}>`);
      }
    };
    walk(root, root.name);
    return out;
  }
}

/** Reads an activemq.xml file; `env` gives ACTIVEMQ_BASE and the like, and the environment placeholders. */
export function readActiveMqXml(file: string, text: string, env: NodeJS.ProcessEnv = process.env): XmlConfig {
  const root = parseXml(text, file);
  const r = new Reader(file, activemqProperties(file, env), env);
  const beans = root.name === 'beans' ? root : null;
  if (beans) loadPlaceholderFiles(r, beans);
  const broker = root.name === 'broker' ? root : beans?.children.find((c) => c.name === 'broker');
  if (!broker) throw configError('CONFIG_FILE', file, 'holds no <broker> element (an ActiveMQ 5 activemq.xml has <beans> around <broker>)');
  r.take(broker);
  const skipped: string[] = [];
  const config = readBroker(r, broker, skipped);
  const ignored = [...r.unread(broker), ...skipped];
  if (beans) for (const c of beans.children) if (c !== broker && !(c.name === 'bean' && isPlaceholderBean(c))) ignored.push(`<beans>/<${c.name}${c.attributes.get('class') ? ` class=${c.attributes.get('class')}` : ''}>`);
  return { config, ignored };
}

function isPlaceholderBean(el: XmlElement): boolean {
  return /PropertyPlaceholderConfigurer$/.test(el.attributes.get('class') ?? '');
}

/** PropertyPlaceholderConfigurer's `location`/`locations` (`file:${activemq.conf}/credentials.properties`): their properties fill placeholders. */
function loadPlaceholderFiles(r: Reader, beans: XmlElement): void {
  for (const bean of beans.children.filter(isPlaceholderBean)) {
    const locations: string[] = [];
    for (const p of bean.children.filter((c) => c.name === 'property')) {
      const inline = p.attributes.get('value');
      if (inline !== undefined) locations.push(inline);
      const values = p.children.flatMap((c) => (c.name === 'value' ? [c] : c.name === 'list' ? c.children.filter((v) => v.name === 'value') : []));
      locations.push(...values.map((v) => v.text.trim()));
    }
    for (const location of locations) {
      const path = r.resolve(bean, location).replace(/^file:/, '');
      r.addProperties(readProperties(resolve(dirname(r.file), path)));
    }
  }
}

function readBroker(r: Reader, broker: XmlElement, ignored: string[]): PartialBrokerConfig {
  const config: PartialBrokerConfig = {};
  const name = r.attr(broker, 'brokerName');
  if (name !== undefined) config.brokerName = name;
  const persistent = r.bool(broker, 'persistent');
  if (persistent !== undefined) config.persistent = persistent;
  const schedulerSupport = r.bool(broker, 'schedulerSupport');
  if (schedulerSupport !== undefined) config.schedulerSupport = schedulerSupport;
  r.attr(broker, 'useJmx');
  // ActiveMQ: the broker's data directory is dataDirectory/brokerName; KahaDB and tmp_storage default below it.
  const dataDirectory = resolve(r.attr(broker, 'dataDirectory') ?? 'activemq-data');
  const brokerData = join(dataDirectory, name ?? 'localhost');
  config.store = { directory: join(brokerData, 'KahaDB') };
  config.tempDirectory = join(brokerData, 'tmp_storage');

  const adapter = r.child(broker, 'persistenceAdapter');
  const kahaDB = adapter && r.child(adapter, 'kahaDB');
  if (kahaDB) readKahaDB(r, kahaDB, config);
  const transports = r.child(broker, 'transportConnectors');
  if (transports) config.transportConnectors = readTransportConnectors(r, transports, ignored);
  const networks = r.child(broker, 'networkConnectors');
  if (networks) config.networkConnectors = r.children(networks, 'networkConnector').map((nc) => readNetworkConnector(r, nc));
  const policy = r.child(broker, 'destinationPolicy');
  const map = policy && r.child(policy, 'policyMap');
  const entries = map && r.child(map, 'policyEntries');
  if (entries) config.policyEntries = r.children(entries, 'policyEntry').map((e) => readPolicyEntry(r, e, config));
  const usage = r.child(broker, 'systemUsage');
  const inner = usage && r.child(usage, 'systemUsage');
  if (inner) readSystemUsage(r, inner, config);
  if (r.bool(broker, 'useVirtualTopics') === false) config.virtualTopics = [];
  const interceptors = r.child(broker, 'destinationInterceptors');
  const virtual = interceptors && r.child(interceptors, 'virtualDestinationInterceptor');
  const destinations = virtual && r.child(virtual, 'virtualDestinations');
  // Given virtual destinations replace ActiveMQ's default VirtualTopic.>, as in ActiveMQ.
  if (destinations) {
    config.virtualTopics = r.children(destinations, 'virtualTopic').map((v) => ({
      name: r.attr(v, 'name') ?? '>',
      prefix: r.attr(v, 'prefix') ?? DEFAULT_VIRTUAL_TOPIC.prefix,
      postfix: r.attr(v, 'postfix') ?? '',
      selectorAware: r.bool(v, 'selectorAware') ?? false,
      local: r.bool(v, 'local') ?? false,
    }));
  }
  const plugins = r.child(broker, 'plugins');
  if (plugins) config.plugins = readPlugins(r, plugins);
  const ssl = r.child(broker, 'sslContext');
  const context = ssl && r.child(ssl, 'sslContext');
  if (context) {
    config.sslContext = {
      keyFile: r.attr(context, 'keyFile') ?? null,
      certFile: r.attr(context, 'certFile') ?? null,
      caFile: r.attr(context, 'caFile') ?? null,
    };
  }
  return config;
}

function readKahaDB(r: Reader, kahaDB: XmlElement, config: PartialBrokerConfig): void {
  const store = config.store!;
  const directory = r.attr(kahaDB, 'directory');
  if (directory !== undefined) store.directory = resolve(directory);
  const maxFile = r.size(kahaDB, 'journalMaxFileLength');
  if (maxFile !== undefined) store.journalMaxFileLength = maxFile;
  const strategy = r.attr(kahaDB, 'journalDiskSyncStrategy')?.toLowerCase();
  if (strategy !== undefined) {
    if (!SYNC_STRATEGIES.includes(strategy as SyncStrategy)) r.fail(kahaDB, `journalDiskSyncStrategy="${strategy}" is not one of ${SYNC_STRATEGIES.join(', ')}`);
    store.journalDiskSyncStrategy = strategy as SyncStrategy;
  }
  if (r.bool(kahaDB, 'enableJournalDiskSyncs') === false) store.journalDiskSyncStrategy = 'never';
  for (const key of ['journalDiskSyncInterval', 'checkpointInterval', 'cleanupInterval'] as const) {
    const v = r.number(kahaDB, key);
    if (v !== undefined) store[key] = v;
  }
  const check = r.bool(kahaDB, 'checkForCorruptJournalFiles');
  if (check !== undefined) store.checkForCorruptJournalFiles = check;
  const locker: NonNullable<PartialBrokerConfig['locker']> = {};
  const keepAlive = r.number(kahaDB, 'lockKeepAlivePeriod');
  if (keepAlive !== undefined) locker.lockKeepAlivePeriod = keepAlive;
  const useLock = r.bool(kahaDB, 'useLock');
  if (useLock !== undefined) locker.useLock = useLock;
  const lockerElement = r.child(kahaDB, 'locker');
  const shared = lockerElement && r.child(lockerElement, 'shared-file-locker');
  if (shared) {
    const sleep = r.number(shared, 'lockAcquireSleepInterval');
    if (sleep !== undefined) locker.lockAcquireSleepInterval = sleep;
    const failIfLocked = r.bool(shared, 'failIfLocked');
    if (failIfLocked !== undefined) locker.failIfLocked = failIfLocked;
  }
  if (Object.keys(locker).length > 0) config.locker = locker;
}

/** STOMP, WebSocket and OpenWire addresses; other protocols (AMQP, MQTT…) are left out and listed in `ignored`. */
function readTransportConnectors(r: Reader, transports: XmlElement, ignored: string[]): string[] {
  const uris: string[] = [];
  for (const tc of r.children(transports, 'transportConnector')) {
    r.attr(tc, 'name');
    const uri = r.attr(tc, 'uri');
    if (uri === undefined) r.fail(tc, 'a transportConnector needs a uri');
    if (/^(amqp|mqtt|udp|vm|http|https)(\+[a-z]+)*:/.test(uri)) {
      ignored.push(`<transportConnector uri="${uri}"> (amq-sim speaks STOMP)`);
      continue;
    }
    try {
      parseTransportUri(uri);
    } catch (err) {
      r.fail(tc, (err as Error).message);
    }
    uris.push(uri);
  }
  return uris;
}

function readNetworkConnector(r: Reader, nc: XmlElement): string {
  const uri = r.attr(nc, 'uri');
  if (uri === undefined) r.fail(nc, 'a networkConnector needs a uri');
  const options = new URLSearchParams();
  for (const a of nc.attributes.keys()) {
    if (a === 'uri' || !NETWORK_ATTRIBUTES.has(a)) continue;
    options.set(a, r.attr(nc, a)!);
  }
  for (const list of DESTINATION_LISTS) {
    const el = r.child(nc, list);
    if (!el) continue;
    const names = [...r.children(el, 'queue'), ...r.children(el, 'topic')].map((d) => `${d.name}://${r.attr(d, 'physicalName') ?? r.fail(d, 'needs physicalName')}`);
    options.set(list, names.join(','));
  }
  const query = options.toString().replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%2F/g, '/').replace(/%3E/g, '>').replace(/%2A/g, '*');
  const full = query === '' ? uri : `${uri}${uri.slice(uri.lastIndexOf(')') + 1).includes('?') ? '&' : '?'}${query}`;
  try {
    parseNetworkUri(full);
  } catch (err) {
    r.fail(nc, (err as Error).message);
  }
  return full;
}

/**
 * A policyEntry: its limits per destination; on an entry for every queue or
 * topic (`>`), the settings amq-sim keeps broker-wide (dead-letter strategy,
 * prefetch, expiry sweep, priorities) too.
 */
function readPolicyEntry(r: Reader, e: XmlElement, config: PartialBrokerConfig): PolicyEntry {
  const entry: PolicyEntry = {};
  const queue = r.attr(e, 'queue');
  const topic = r.attr(e, 'topic');
  if (queue !== undefined) entry.queue = queue;
  if (topic !== undefined) entry.topic = topic;
  if ((queue === undefined) === (topic === undefined)) r.fail(e, 'a policyEntry names either a queue or a topic');
  if ((queue ?? topic) === '>') readBrokerWidePolicy(r, e, (config.policy ??= {}));
  const memoryLimit = r.size(e, 'memoryLimit');
  if (memoryLimit !== undefined) entry.memoryLimit = memoryLimit;
  const pfc = r.bool(e, 'producerFlowControl');
  if (pfc !== undefined) entry.producerFlowControl = pfc;
  const page = r.number(e, 'maxPageSize');
  if (page !== undefined) entry.maxPageSize = page;
  const hwm = r.number(e, 'cursorMemoryHighWaterMark');
  if (hwm !== undefined) entry.cursorMemoryHighWaterMark = hwm;
  const strategy = r.child(e, 'pendingMessageLimitStrategy');
  const constant = strategy && r.child(strategy, 'constantPendingMessageLimitStrategy');
  const limit = constant && r.number(constant, 'limit');
  if (limit !== undefined) entry.pendingMessageLimit = limit;
  return entry;
}

function readBrokerWidePolicy(r: Reader, e: XmlElement, policy: NonNullable<PartialBrokerConfig['policy']>): void {
  for (const key of ['queuePrefetch', 'topicPrefetch', 'durableTopicPrefetch', 'expireMessagesPeriod'] as const) {
    const v = r.number(e, key);
    if (v !== undefined) policy[key] = v;
  }
  const prioritized = r.bool(e, 'prioritizedMessages');
  if (prioritized !== undefined) policy.prioritizedMessages = prioritized;
  const dls = r.child(e, 'deadLetterStrategy');
  if (!dls) return;
  const individual = r.child(dls, 'individualDeadLetterStrategy');
  const strategy = individual ?? r.child(dls, 'sharedDeadLetterStrategy');
  if (!strategy) return;
  policy.deadLetterStrategy = individual ? 'individual' : 'shared';
  const queuePrefix = individual && r.attr(individual, 'queuePrefix');
  if (queuePrefix !== undefined) policy.deadLetterQueuePrefix = queuePrefix;
  const topicPrefix = individual && r.attr(individual, 'topicPrefix');
  if (topicPrefix !== undefined) policy.deadLetterTopicPrefix = topicPrefix;
  const expired = r.bool(strategy, 'processExpired');
  if (expired !== undefined) policy.processExpired = expired;
  const nonPersistent = r.bool(strategy, 'processNonPersistent');
  if (nonPersistent !== undefined) policy.processNonPersistent = nonPersistent;
}

function readSystemUsage(r: Reader, usage: XmlElement, config: PartialBrokerConfig): void {
  const u: NonNullable<PartialBrokerConfig['systemUsage']> = {};
  const fail = r.bool(usage, 'sendFailIfNoSpace');
  if (fail !== undefined) u.sendFailIfNoSpace = fail;
  const after = r.number(usage, 'sendFailIfNoSpaceAfterTimeout');
  if (after !== undefined) u.sendFailIfNoSpaceAfterTimeout = after;
  for (const [outer, key] of [['memoryUsage', 'memoryUsage'], ['storeUsage', 'storeUsage'], ['tempUsage', 'tempUsage']] as const) {
    const wrapper = r.child(usage, outer);
    const el = wrapper && r.child(wrapper, key);
    const limit = el && r.size(el, 'limit');
    if (limit !== undefined) u[key] = { limit };
  }
  config.systemUsage = u;
}

function readPlugins(r: Reader, plugins: XmlElement): PluginsConfig {
  const out: PluginsConfig = {};
  const simple = r.child(plugins, 'simpleAuthenticationPlugin');
  if (simple) {
    const users = r.child(simple, 'users');
    out.simpleAuthenticationPlugin = {
      ...anonymous(r, simple),
      users: (users ? r.children(users, 'authenticationUser') : []).map((u) => ({ username: r.attr(u, 'username') ?? r.fail(u, 'needs username'), password: r.attr(u, 'password') ?? r.fail(u, 'needs password'), groups: r.attr(u, 'groups') ?? '' })),
    };
  }
  const jaas = r.child(plugins, 'jaasAuthenticationPlugin');
  if (jaas) {
    // ActiveMQ's login.config points PropertiesLoginModule at these two files in its conf directory.
    r.attr(jaas, 'configuration');
    const conf = r.resolve(jaas, '${activemq.conf}');
    out.jaasAuthenticationPlugin = { ...anonymous(r, jaas), users: join(conf, 'users.properties'), groups: join(conf, 'groups.properties') };
  }
  const authorization = r.child(plugins, 'authorizationPlugin');
  const map = authorization && r.child(authorization, 'map');
  const authorizationMap = map && r.child(map, 'authorizationMap');
  if (authorizationMap) {
    const entries = r.child(authorizationMap, 'authorizationEntries');
    const temp = r.child(authorizationMap, 'tempDestinationAuthorizationEntry');
    const tempEntry = temp && r.child(temp, 'tempDestinationAuthorizationEntry');
    out.authorizationPlugin = { entries: (entries ? r.children(entries, 'authorizationEntry') : []).map((e) => rights(r, e, true)) };
    if (tempEntry) out.authorizationPlugin.tempDestinationAuthorizationEntry = rights(r, tempEntry, false);
  }
  return out;
}

function anonymous(r: Reader, el: XmlElement): { anonymousAccessAllowed?: boolean; anonymousUser?: string; anonymousGroup?: string } {
  const out: { anonymousAccessAllowed?: boolean; anonymousUser?: string; anonymousGroup?: string } = {};
  const allowed = r.bool(el, 'anonymousAccessAllowed');
  if (allowed !== undefined) out.anonymousAccessAllowed = allowed;
  const user = r.attr(el, 'anonymousUser');
  if (user !== undefined) out.anonymousUser = user;
  const group = r.attr(el, 'anonymousGroup');
  if (group !== undefined) out.anonymousGroup = group;
  return out;
}

function rights(r: Reader, e: XmlElement, named: boolean): AuthorizationEntry {
  const entry: AuthorizationEntry = {};
  for (const k of ['read', 'write', 'admin'] as const) {
    const v = r.attr(e, k);
    if (v !== undefined) entry[k] = v;
  }
  if (named) {
    const queue = r.attr(e, 'queue');
    const topic = r.attr(e, 'topic');
    if (queue !== undefined) entry.queue = queue;
    if (topic !== undefined) entry.topic = topic;
    if (queue === undefined && topic === undefined) r.fail(e, 'an authorizationEntry names a queue or a topic');
  }
  return entry;
}
