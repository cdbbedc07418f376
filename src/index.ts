// Public API of engram. Each area adds its exports here.
export { VERSION } from './version.js';
export * from './backbone/index.js';
export * from './memory/index.js';
export { pqEncode, pqEncodeReference, type PqShape } from './quantize/pq-encode.js';
export * from './native/index.js';
export * from './store/index.js';
export * from './link/index.js';
export * from './devices/index.js';
export * from './baselines/index.js';
export * from './learner/index.js';
export * from './fleet/index.js';
