/**
 * `amq-sim cluster a.xml b.xml …` (or a folder of them): one broker per
 * activemq.xml, as the files say — their own ports and KahaDB directories
 * (files naming one directory share it, master/slave, as on one host) — plus
 * an admin endpoint each. A network connector's host that names another
 * broker of the files by its port (`tcp://activemq-broker1:61616` in the
 * blog's Docker files) is dialled on 127.0.0.1, where that broker runs here.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PartialBrokerConfig } from '../config/broker-config.js';
import type { BrokerPlan, Topology } from '../config/topology.js';
import { configError } from '../errors.js';
import { readBrokerConfigFile } from './config-file.js';

export interface XmlCluster {
  topology: Topology;
  plans: BrokerPlan[];
  /** What each file holds that amq-sim ignores, by broker. */
  ignored: Array<{ broker: string; ignored: string[] }>;
}

/** The activemq.xml files the arguments name: files, or folders searched for .xml files and for conf/activemq.xml one level down. */
export function xmlFiles(args: readonly string[]): string[] | null {
  const files: string[] = [];
  for (const a of args) {
    if (a.endsWith('.xml')) files.push(a);
    else if (isFolder(a)) {
      for (const entry of readdirSync(a).sort()) {
        const path = join(a, entry);
        if (entry.endsWith('.xml')) files.push(path);
        else if (isFolder(path) && isFile(join(path, 'conf', 'activemq.xml'))) files.push(join(path, 'conf', 'activemq.xml'));
      }
    } else return null;
  }
  return files.length > 0 ? files : null;
}

const isFolder = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
const isFile = (p: string) => statSync(p, { throwIfNoEntry: false })?.isFile() === true;

const portOf = (uri: string) => /:\/\/[^/:?]*:(\d+)/.exec(uri)?.[1];

export function planXmlCluster(files: readonly string[], adminBasePort: number, shared: PartialBrokerConfig): XmlCluster {
  const read = files.map((file) => ({ file, ...readBrokerConfigFile(file) }));
  const names = read.map((r) => r.config.brokerName ?? basename(r.file, '.xml'));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw configError('CONFIG_INVALID', `Two files name the broker '${twice}': each broker of a cluster needs its own brokerName`);
  const ports = new Set(read.flatMap((r) => (r.config.transportConnectors ?? []).map(portOf).filter((p) => p !== undefined)));
  const local = (uri: string) => uri.replace(/(\b[a-z+]+:\/\/)([^/:?,)]+):(\d+)/g, (whole, scheme: string, _host: string, port: string) => (ports.has(port) ? `${scheme}127.0.0.1:${port}` : whole));
  const plans = read.map((r, i): BrokerPlan => {
    const stomp = (r.config.transportConnectors ?? [])[0] ?? 'stomp://127.0.0.1:61613';
    const config: PartialBrokerConfig = { ...shared, ...r.config, brokerName: names[i], networkConnectors: (r.config.networkConnectors ?? []).map(local), admin: `http://127.0.0.1:${adminBasePort + i}` };
    const storeDir = config.persistent === false ? null : config.store?.directory ?? null;
    return {
      name: names[i],
      stompUrl: stomp.replace(/\?.*$/, '').replace('://0.0.0.0:', '://127.0.0.1:'),
      adminUrl: `http://127.0.0.1:${adminBasePort + i}`,
      storeDir,
      sharesStoreWith: [],
      config,
    };
  });
  for (const p of plans) p.sharesStoreWith = plans.filter((o) => o !== p && p.storeDir !== null && o.storeDir === p.storeDir).map((o) => o.name);
  return {
    topology: { name: 'activemq.xml', description: files.join(', '), brokers: plans.map((p) => ({ name: p.name })) },
    plans,
    ignored: read.map((r, i) => ({ broker: names[i], ignored: r.ignored })).filter((x) => x.ignored.length > 0),
  };
}
