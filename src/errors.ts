/**
 * The error catalogue. Every error amq-sim raises has a stable code listed
 * here with the text it produces (ActiveMQ's wording wherever ActiveMQ has
 * one, since operators and clients match on it). ERROR frames carry the code
 * in an `error-code` header, log lines in a `code` field, the admin API in
 * its JSON answer.
 *
 * A leaf module: every folder may import it.
 */

const MESSAGES = {
  // ---- STOMP: a client's mistake. ERROR frame with this text, then the connection closes. ----
  STOMP_NOT_CONNECTED: () => 'Not connected.',
  STOMP_ALREADY_CONNECTED: () => 'Already connected.',
  STOMP_UNKNOWN_COMMAND: (command: string) => `Unknown STOMP action: ${command}`,
  STOMP_VERSION: (offered: string, supported: string) => `Invalid Protocol version[${offered}], supported versions are: [${supported}]`,
  STOMP_HEART_BEAT: (value: string) => `Invalid heart-beat header: ${value}`,
  STOMP_CONNECT_TIMEOUT: () => 'Connection did not send CONNECT in time',
  STOMP_INCOMPLETE_FRAME: () => 'Incomplete frame',
  STOMP_CLIENT_ID_IN_USE: (broker: string, clientId: string, from: string) => `Broker: ${broker} - Client: ${clientId} already connected from ${from}`,
  STOMP_SEND_NO_DESTINATION: () => 'SEND received without a Destination specified!',
  STOMP_SUBSCRIBE_NO_DESTINATION: () => 'SUBSCRIBE received without a Destination specified!',
  STOMP_SUBSCRIBE_NO_ID: () => 'SUBSCRIBE received without a subscription id!',
  STOMP_UNSUBSCRIBE_NO_ID: () => 'UNSUBSCRIBE received without a subscription id!',
  STOMP_DUPLICATE_SUBSCRIPTION: (id: string) => `Duplicate subscription id: ${id}`,
  STOMP_NO_SUBSCRIPTION: (id: string) => `No subscription matched: ${id}`,
  STOMP_ILLEGAL_DESTINATION: (value: string) => `Illegal destination name: [${value}] -- ActiveMQ STOMP destinations must begin with one of: /queue/ /topic/ /temp-queue/ /temp-topic/`,
  STOMP_DELETED_TEMPORARY: (name: string) => `Cannot publish to a deleted Destination: ${name}`,
  STOMP_FOREIGN_TEMPORARY: (name: string) => `Cannot subscribe to a temporary destination of another connection: ${name}`,
  STOMP_ACK_MODE: (mode: string) => `Invalid ack mode: ${mode} (expected auto, client or client-individual)`,
  STOMP_DURABLE_QUEUE: () => 'cannot durably subscribe to a Queue destination!',
  STOMP_DURABLE_NO_CLIENT_ID: () => 'A durable subscription needs a client-id on CONNECT',
  STOMP_DURABLE_IN_USE: (clientId: string, name: string) => `Durable consumer is in use for client: ${clientId} and subscriptionName: ${name}`,
  STOMP_BROWSER_VERSION: () => 'Queue Browser feature only valid for Stomp v1.1+ clients!',
  STOMP_BROWSER_NOT_QUEUE: (name: string) => `Queue Browser feature only valid for queues, not ${name}`,
  STOMP_BROWSER_NACK: () => 'Cannot Nack a message on a Queue Browser Subscription.',
  STOMP_INVALID_SELECTOR: (reason: string) => `Invalid selector: ${reason}`,
  STOMP_INVALID_HEADER: (name: string, value: string) => `Invalid ${name} header: ${value}`,
  SCHEDULER_REPEAT_TOO_LARGE: () => 'The scheduled repeat value is too large',
  SCHEDULER_INVALID_CRON: (reason: string) => reason,
  SCHEDULER_ENDLESS_WITHOUT_PERIOD: (repeat: number) => `AMQ_SCHEDULED_REPEAT ${repeat} (for ever) needs an AMQ_SCHEDULED_PERIOD above 0`,
  STOMP_ACK_NO_ID: (command: string) => `${command} received without a ack id to acknowledge!`,
  STOMP_ACK_NO_MESSAGE_ID: (command: string) => `${command} received without a message-id to acknowledge!`,
  STOMP_UNEXPECTED_ACK: (command: string, id: string) => `Unexpected ${command} received for message-id [${id}]`,
  STOMP_NACK_V10: () => 'NACK received but connection is in v1.0 mode.',
  STOMP_NO_TRANSACTION: (id: string) => `Invalid transaction id: ${id}`,
  STOMP_TRANSACTION_STARTED: (id: string) => `The transaction was already started: ${id}`,
  STOMP_TRANSACTION_MISSING: (verb: string) => `Must specify the transaction you are ${verb}`,
  STOMP_AUTHENTICATION_FAILED: (user: string) => `User name [${user}] or password is invalid.`,
  STOMP_NOT_AUTHORIZED: (user: string, verb: string, destination: string) => `User ${user} is not authorized to ${verb}: ${destination}`,
  STOMP_OPENWIRE_CLIENT: () => 'This is an OpenWire client (ActiveMQ\'s native protocol): amq-sim speaks STOMP only; connect with a STOMP client (stomp://)',
  STOMP_NOT_A_BRIDGE: (user: string) => `User ${user || '(not authenticated)'} is not authorized to act as a network bridge`,
  STOMP_STORE_FAILED: (reason: string) => `Could not store the message: ${reason}`,
  /** ActiveMQ's ResourceAllocationException texts (sendFailIfNoSpace, sendFailIfNoSpaceAfterTimeout). */
  STOMP_RESOURCE_FULL: (message: string) => message,
  STOMP_TRANSACTION_TOO_LARGE: (id: string, limit: number) => `Transaction ${id} cannot take more messages: open transactions may hold ${limit} bytes together (half the memory limit)`,
  STOMP_FRAME_BUFFER_FULL: (limit: number) => `Frame refused: incomplete frames of all connections would take more than ${limit} bytes`,
  STOMP_PEER_HELLO: (header: string, reason: string) => `Invalid ${header} header: ${reason}`,
  STOMP_INTERNAL: () => 'Internal broker error',
  STOMP_SHUTTING_DOWN: () => 'Broker is shutting down',
  STOMP_MAX_CONNECTIONS: () =>
    "Exceeded the maximum number of allowed client connections. See the 'maximumConnections' property on the TCP transport configuration URI in the ActiveMQ configuration file (e.g., activemq.xml)",
  STOMP_FILE_LIMIT: (limit: number) => `Too many open files: the process limit of ${limit} leaves no room for another connection`,

  // ---- The STOMP codec (raised by src/stomp, sent as ERROR as above). ----
  FRAME_TOO_LARGE: (max: number) => `Frame exceeds the maximum frame size of ${max} bytes`,
  TOO_MANY_HEADERS: (max: number) => `Frame has more than ${max} headers`,
  HEADER_TOO_LONG: (max: number) => `Header line exceeds ${max} bytes`,
  MALFORMED_HEADER: (line: string) => `Header line without ':': ${line}`,
  BAD_ESCAPE: (what: string) => what,
  BAD_CONTENT_LENGTH: (value: string) => `Invalid content-length: '${value}'`,
  MISSING_NUL: (length: number) => `Frame body is longer than its content-length of ${length}`,
  EMPTY_COMMAND: () => 'Frame has an empty command line',

  // ---- Configuration: refused at start (exit status 2). ----
  CONFIG_INVALID: (what: string) => what,
  CONFIG_UNKNOWN_KEY: (where: string, known: string) => `Unknown configuration key '${where}' (known: ${known})`,
  CONFIG_BAD_VALUE: (where: string, expected: string, value: string) => `'${where}' must be ${expected}, not ${value}`,
  CONFIG_FILE: (file: string, reason: string) => `Config file ${file}: ${reason}`,
  CONFIG_URI: (uri: string, reason: string) => `Invalid URI '${uri}': ${reason}`,
  CONFIG_URI_OPTION: (name: string, value: string, uri: string, expected: string) => `Invalid value '${value}' for option '${name}' in '${uri}' (${expected})`,
  CONFIG_URI_UNKNOWN_OPTIONS: (options: string, uri: string) => `Invalid connect parameters: {${options}} in '${uri}'`,
  CONFIG_TOPOLOGY: (source: string, reason: string) => `Topology ${source}: ${reason}`,
  CONFIG_PORT_IN_USE: (port: number, what: string) => `Port ${port} (${what}) is in use: stop what holds it, or move the cluster with --base-port / --admin-base-port`,
  CONFIG_STORE_DIRECTORY: (directory: string, reason: string) => `Store directory ${directory} cannot be used: ${reason}`,
  CONFIG_NETWORK_URI: (uri: string, reason: string) => `Invalid network connector URI '${uri}': ${reason}`,

  // ---- Store and lock. ----
  STORE_FENCED: (reason: string) => reason,
  STORE_CORRUPT_RECORD: (reason: string) => reason,
  STORE_CLOSED: () => 'store is not open',
  STORE_DISK_FULL: (directory: string, reason: string) => `The store's disk is full, the message was not stored (${directory}: ${reason})`,
  LOCK_LOCKED: (lock: string, reason: string) => `Database ${lock} is locked by another server and failIfLocked is set: ${reason}`,
  LOCK_WAIT_ABORTED: () => 'attempt to obtain lock aborted due to shutdown',
  LOCK_FOREIGN: (lock: string, code: string) => `${lock} exists and is not an amq-sim lock (${code}); remove it if no broker uses this store`,

  // ---- Selectors (wrapped in STOMP_INVALID_SELECTOR on the wire). ----
  SELECTOR_SYNTAX: (reason: string, position: number) => `${reason} at position ${position}`,

  // ---- Network of brokers. ----
  NETWORK_BAD_MESSAGE: (what: string, reason: string) => `Invalid ${what} from the remote broker: ${reason}`,
  NETWORK_STALLED: (reason: string) => `bridge stalled: ${reason}`,
  NETWORK_FAULT_CUT: () => 'connection cut on purpose (fault injection)',
  NETWORK_STOPPED: () => 'bridge stopped',
  NETWORK_NOT_AMQ_SIM: (url: string, header: string) => `${url} is not an amq-sim broker (no ${header} in CONNECTED): network bridges need amq-sim at both ends`,
  NETWORK_SAME_NAME: (url: string, name: string) =>
    `${url} is this broker's own name (${name}): a network connector cannot point at its own broker or at one with the same brokerName`,

  // ---- Admin endpoint (HTTP status in the catalogue's users). ----
  ADMIN_NOT_FOUND: (what: string) => what,
  ADMIN_BAD_REQUEST: (what: string) => what,
  ADMIN_NOT_SERVING: (role: string) => `This broker is ${role}, not serving`,
  ADMIN_UNREACHABLE: (url: string, reason: string) => `Cannot reach ${url}: ${reason}`,

  // ---- Client (src/client: tools, bridges, tests). ----
  CLIENT_SERVER_ERROR: (message: string) => message,
  CLIENT_CONNECTION_LOST: (reason: string) => reason,
  CLIENT_CONNECT_TIMEOUT: (url: string, ms: number) => `No CONNECTED from ${url} within ${ms} ms`,
  CLIENT_UNEXPECTED_FRAME: (command: string) => `Expected CONNECTED, got ${command}`,
  CLIENT_USAGE: (what: string) => what,
} satisfies Record<string, (...args: never[]) => string>;

export type ErrorCode = keyof typeof MESSAGES;
export type ErrorArgs<C extends ErrorCode> = Parameters<(typeof MESSAGES)[C]>;

export function errorMessage<C extends ErrorCode>(code: C, ...args: ErrorArgs<C>): string {
  return (MESSAGES[code] as (...a: ErrorArgs<C>) => string)(...args);
}

/** Every code in the catalogue (docs and tests list them). */
export const ERROR_CODES = Object.keys(MESSAGES) as ErrorCode[];

/** Base of every error amq-sim raises on purpose: a code from the catalogue and its text. */
export class AmqSimError extends Error {
  override name = 'AmqSimError';
  /** More than the one-line message: the body of an ERROR frame, a log field. */
  detail: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  withDetail(detail: string): this {
    this.detail = detail;
    return this;
  }
}

/** A client broke the protocol: it gets an ERROR frame with this message, then its connection closes. */
export class ProtocolError extends AmqSimError {
  override name = 'ProtocolError';
}

/** Bad configuration: refused before anything starts (exit status 2). */
export class ConfigError extends AmqSimError {
  override name = 'ConfigError';
}

/** The store cannot do what was asked (fenced, I/O failure, unusable directory). */
export class StoreError extends AmqSimError {
  override name = 'StoreError';
}

/** The store lock could not be taken, or the wait for it ended. */
export class LockError extends AmqSimError {
  override name = 'LockError';
}

/** A network bridge saw something wrong on its link. */
export class NetworkError extends AmqSimError {
  override name = 'NetworkError';
}

/** An admin request that cannot be served; `status` is its HTTP status. */
export class AdminError extends AmqSimError {
  override name = 'AdminError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly status = 400,
  ) {
    super(code, message);
  }
}

/** What a STOMP client (src/client) runs into. */
export class ClientError extends AmqSimError {
  override name = 'ClientError';
}

/** The wait for the store lock ended because the broker was stopped (not a failure). */
export const isLockWaitAborted = (err: unknown): boolean => err instanceof LockError && err.code === 'LOCK_WAIT_ABORTED';

/** A function that makes errors of `Class` from catalogue codes, with the code's arguments checked. */
const factory =
  <E extends AmqSimError>(Class: new (code: ErrorCode, message: string) => E) =>
  <C extends ErrorCode>(code: C, ...args: ErrorArgs<C>): E =>
    new Class(code, errorMessage(code, ...args));

export const protocolError = factory(ProtocolError);
export const configError = factory(ConfigError);
export const storeError = factory(StoreError);
export const lockError = factory(LockError);
export const networkError = factory(NetworkError);
export const clientError = factory(ClientError);
export const adminError = <C extends ErrorCode>(status: number, code: C, ...args: ErrorArgs<C>): AdminError => new AdminError(code, errorMessage(code, ...args), status);
