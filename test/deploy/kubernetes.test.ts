/**
 * deploy/kubernetes/*.yaml: no cluster can be reached here, so every object is
 * validated against the Kubernetes API schemas (kubernetes-models), and what
 * ties the objects together is checked: selectors that select, ports and
 * Secrets that exist, readiness that only a master passes, the edges dialling
 * the hub's Service, broker arguments the CLI accepts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const DIR = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 StatefulSet': StatefulSet,
  'v1 Service': Service,
  'v1 Secret': Secret,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
};

interface Container {
  args: string[];
  env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: { cpu: string; memory: string } };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
}
interface StatefulSetSpec {
  replicas: number;
  serviceName: string;
  template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }> } };
}
interface ServiceSpec {
  selector: Record<string, string>;
  ports: Array<{ name: string; targetPort: string }>;
  clusterIP?: string;
}

function load(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as K8sObject;
  });
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const of = <T>(objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind) as Array<K8sObject & { spec: T }>;
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Kubernetes manifests', () => {
  it('are there for the three topologies', () => {
    expect(files.sort()).toEqual(['combined.yaml', 'master-slave.yaml', 'network.yaml']);
  });

  for (const file of files) {
    it(`${file}: every object is valid against the Kubernetes API schema`, () => {
      for (const o of load(file)) {
        const Model = MODELS[`${o.apiVersion} ${o.kind}`];
        expect(Model, `${o.apiVersion} ${o.kind}`).toBeDefined();
        expect(() => new Model(o as never).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
      }
    });

    it(`${file}: Services select pods and name their ports; Secrets, claims and probes exist; brokers are sized`, () => {
      const objects = load(file);
      const sets = of<StatefulSetSpec>(objects, 'StatefulSet');
      const secrets = new Map(of<never>(objects, 'Secret').map((s) => [s.metadata.name, s.stringData ?? {}]));
      const claims = new Set(of<never>(objects, 'PersistentVolumeClaim').map((c) => c.metadata.name));
      const services = of<ServiceSpec>(objects, 'Service');
      for (const svc of services) {
        const backing = sets.filter((s) => selects(svc.spec.selector, s.spec.template.metadata.labels));
        expect(backing, `Service ${svc.metadata.name} selects a StatefulSet's pods`).toHaveLength(1);
        const portNames = backing[0].spec.template.spec.containers[0].ports.map((p) => p.name);
        for (const p of svc.spec.ports) expect(portNames).toContain(p.targetPort);
      }
      for (const set of sets) {
        expect(services.some((s) => s.metadata.name === set.spec.serviceName && s.spec.clusterIP === 'None'), `${set.metadata.name}: its headless Service`).toBe(true);
        for (const claim of set.spec.template.spec.volumes ?? []) if (claim.persistentVolumeClaim) expect(claims).toContain(claim.persistentVolumeClaim.claimName);
        const c = set.spec.template.spec.containers[0];
        for (const e of c.env) if (e.valueFrom?.secretKeyRef) expect(secrets.get(e.valueFrom.secretKeyRef.name)?.[e.valueFrom.secretKeyRef.key], `${e.name} from a Secret`).toBeDefined();
        // Only the master is Ready; a slave is alive.
        expect(c.readinessProbe.httpGet).toEqual({ path: '/health?role=master', port: 'admin' });
        expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'admin' });
        expect(c.resources.requests).toEqual({ cpu: '500m', memory: '512Mi' });
      }
    });
  }

  it('master-slave.yaml and combined.yaml: the pair shares one ReadWriteMany claim, and the hub\'s Service is its front door', () => {
    for (const [file, name] of [
      ['master-slave.yaml', 'amq-sim-broker1'],
      ['combined.yaml', 'amq-sim-hub'],
    ]) {
      const objects = load(file);
      const pair = of<StatefulSetSpec>(objects, 'StatefulSet').find((s) => s.metadata.name === name)!;
      expect(pair.spec.replicas).toBe(2);
      const claim = pair.spec.template.spec.volumes![0].persistentVolumeClaim!.claimName;
      expect(of<{ accessModes: string[] }>(objects, 'PersistentVolumeClaim').find((c) => c.metadata.name === claim)!.spec.accessModes).toEqual(['ReadWriteMany']);
      // The front door: a Service over both pods that only routes to Ready ones.
      const door = of<ServiceSpec & { publishNotReadyAddresses?: boolean }>(objects, 'Service').find((s) => s.metadata.name === name)!;
      expect(door.spec.clusterIP).toBeUndefined();
      expect(door.spec.publishNotReadyAddresses).toBeUndefined();
      expect(door.spec.ports.map((p) => p.name)).toEqual(['stomp', 'ws', 'admin']);
    }
  });

  it("network.yaml and combined.yaml: the edges' connectors dial the hub's Service, which exists", () => {
    for (const file of ['network.yaml', 'combined.yaml']) {
      const objects = load(file);
      const edge = of<StatefulSetSpec>(objects, 'StatefulSet').find((s) => s.metadata.name === 'amq-sim-edge')!;
      const network = edge.spec.template.spec.containers[0].args.find((a) => a.startsWith('--network='))!;
      expect(network).toBe('--network=static:(stomp://amq-sim-hub:61613)?duplex=true');
      expect(of<ServiceSpec>(objects, 'Service').some((s) => s.metadata.name === 'amq-sim-hub')).toBe(true);
    }
  });

  it("every broker's arguments start a broker (POD_NAME as Kubernetes puts it, store and ports local)", async () => {
    const seen = new Set<string>();
    for (const file of files) {
      for (const set of of<StatefulSetSpec>(load(file), 'StatefulSet')) {
        const args = set.spec.template.spec.containers[0].args;
        const key = args.filter((a) => !a.startsWith('--name=')).join(' ');
        if (seen.has(key)) continue;
        seen.add(key);
        const local = args
          .map((a) => a.replace('$(POD_NAME)', `${set.metadata.name}-0`).replace('0.0.0.0:61613', '127.0.0.1:0').replace('0.0.0.0:61614', '127.0.0.1:0').replace('0.0.0.0:8161', '127.0.0.1:0'))
          .map((a) => (a.startsWith('--store=') ? `--store=${tempDir('k8s-args')}` : a))
          // The hub's Service name resolves in the cluster only: the connector is checked, and dials nowhere reachable.
          .map((a) => a.replace('amq-sim-hub:61613', '127.0.0.1:1'));
        const p = runCli([...local, '--log-format', 'json']);
        await p.waitForLog(/\) started$/, 15_000);
        expect(p.logs.filter((l) => l.level >= 50)).toEqual([]);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
