export type { NativeBinding, NativeMemory, NativeMemoryConstructor, NativeSimdInfo } from './binding.js';
export { loadBinding, bindingPath, addonCandidates, packageRoot } from './loader.js';
