// Fleet: export, import and merge memories, and keep a fleet of devices in sync over MQTT (docs/fleet.md).
export { exportStore, importFile, decodeFleetFile, type FleetFileHead, type ImportResult, type ExportOptions } from './file.js';
export { FleetDevice, spaceDifference, type Space } from './device.js';
export { FleetMember } from './member.js';
export { FleetState, type Update, type Contribution, type Tombstone, type Calibration, type Stamp } from './state.js';
export { encodeUpdate, decodeUpdate } from './codec.js';
