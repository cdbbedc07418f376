// Public API of engram. Each area adds its exports here.
export { VERSION } from './version.js';
export * from './backbone/index.js';
