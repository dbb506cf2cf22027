export * from './client.js';
export * from './failover-uri.js';
export { Session, type SessionOptions } from './session.js';
