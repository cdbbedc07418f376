// Device profiles: the boards engram knows, how it recognises them, and what it runs there.
export {
  devicesDir,
  loadSchema,
  validateProfile,
  loadProfileFile,
  loadProfiles,
  getProfile,
  ProfileError,
  type DeviceProfile,
  type Arch,
  type ExecutionProvider,
} from './profile.js';
export {
  readBoardFacts,
  matchProfile,
  detectDevice,
  resolveProfile,
  type BoardFacts,
  type Detection,
  type DetectOptions,
  type ProfileMatch,
  type ResolvedProfile,
} from './detect.js';
export { planProviders, supportedBackends, type ProviderStep, type SupportedBackend } from './providers.js';
export { checkSchema, type JsonSchema } from './schema.js';
