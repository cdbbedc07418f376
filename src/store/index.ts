// Durable storage: snapshots plus an append-only journal in one locked directory.
export { Store, DEFAULT_BATCH_MS } from './store.js';
export type { Durability, StoreOptions, Recovered, StoreInfo } from './store.js';
export { StoreError } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export type { JournalRecord } from './format.js';
export { FORMAT_VERSION as STORE_FORMAT_VERSION, MAX_RECORD_PAYLOAD } from './format.js';
export type { LockHolder } from './lock.js';
