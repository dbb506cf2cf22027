/**
 * The cluster view of `amq-sim cluster` (`--console-port`, default 8160):
 * one page drawing the whole topology from every broker's status, live, with
 * the simulator's faults as buttons. `GET /api/status` here is the cluster's
 * state; `POST /api/cluster/<kill|freeze|resume|restart>` `{broker}` and
 * `POST /api/cluster/bridge` `{broker, action, bridge?}` inject faults (also
 * `amq-sim fault` and `amq-sim bridge`).
 */
import { type AdminCredentials, type AdminServer, listenAdmin } from '../broker/admin-server.js';
import type { BrokerPlan, Topology } from '../config/topology.js';
import { consoleAsset } from '../console/assets.js';
import { adminError } from '../errors.js';
import { FAULT_ACTIONS } from '../network/connector-config.js';
import { type ClusterSupervisor, PROCESS_FAULTS, type ProcessFault } from './cluster-supervisor.js';

/** A broker that does not answer within this long is shown without its status (frozen, or busy). */
const STATUS_TIMEOUT_MS = 800;

export interface ClusterConsoleOptions {
  host: string;
  port: number;
  topology: Topology;
  plans: BrokerPlan[];
  supervisor: ClusterSupervisor;
  /** Credentials of the brokers' admin endpoints and of this page (`--secure`), or null. */
  credentials: AdminCredentials | null;
  /** The plain admin password, for calling the brokers (the credentials hold its hash). */
  adminPassword: string | null;
}

export function listenClusterConsole(o: ClusterConsoleOptions): Promise<AdminServer> {
  const authorization: Record<string, string> = o.credentials && o.adminPassword !== null ? { authorization: `Basic ${Buffer.from(`${o.credentials.user}:${o.adminPassword}`).toString('base64')}` } : {};
  const brokerStatus = async (plan: BrokerPlan): Promise<{ status: unknown; error: string | null }> => {
    try {
      const res = await fetch(`${plan.adminUrl}/api/status`, { headers: authorization, signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
      return { status: await res.json(), error: res.ok ? null : `HTTP ${res.status}` };
    } catch (err) {
      return { status: null, error: (err as Error).name === 'TimeoutError' ? 'no answer' : 'not reachable' };
    }
  };
  const clusterStatus = async () => ({
    name: o.topology.name,
    description: o.topology.description,
    brokers: await Promise.all(
      o.plans.map(async (p) => ({
        name: p.name,
        stompUrl: p.stompUrl,
        adminUrl: p.adminUrl,
        store: p.storeDir,
        sharesStoreWith: p.sharesStoreWith,
        networkConnectors: p.config.networkConnectors ?? [],
        ...o.supervisor.processState(p.name),
        ...(await brokerStatus(p)),
      })),
    ),
  });
  const bridgeFault = async (args: Record<string, string>) => {
    const plan = o.plans.find((p) => p.name === args.broker);
    if (!plan) throw adminError(404, 'ADMIN_NOT_FOUND', `No broker '${args.broker}' in this cluster`);
    if (!(FAULT_ACTIONS as readonly string[]).includes(args.action)) throw adminError(400, 'ADMIN_BAD_REQUEST', `bridge action must be one of ${FAULT_ACTIONS.join(', ')}`);
    const body: Record<string, string> = {};
    if (args.bridge) body.bridge = args.bridge;
    if (args.ms) body.ms = args.ms;
    const res = await fetch(`${plan.adminUrl}/api/network/${args.action}`, { method: 'POST', headers: { 'content-type': 'application/json', ...authorization }, body: JSON.stringify(body) });
    const result = (await res.json()) as { error?: string };
    if (!res.ok) throw adminError(res.status, 'ADMIN_BAD_REQUEST', `${plan.name}: ${result.error ?? res.statusText}`);
    return result;
  };
  return listenAdmin(
    o.host,
    o.port,
    {
      status: clusterStatus,
      health: () => ({ ok: true, role: 'cluster' }),
      asset: (path) => consoleAsset(path, 'cluster.html'),
      command: async (extension, action, args) => {
        if (extension === 'cluster' && action === 'bridge') return bridgeFault(args);
        if (extension === 'cluster' && (PROCESS_FAULTS as readonly string[]).includes(action)) return { results: [await o.supervisor.fault(args.broker, action as ProcessFault)] };
        throw adminError(404, 'ADMIN_NOT_FOUND', `No cluster action '${extension}/${action}' (cluster/${PROCESS_FAULTS.join(', cluster/')}, cluster/bridge)`);
      },
    },
    o.credentials,
  );
}
