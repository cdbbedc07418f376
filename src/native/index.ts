export type { NativeBinding, NativeMemory, NativeMemoryConstructor, NativeSimdInfo } from './binding.js';
export { loadBinding, optionalBinding, bindingPath, addonCandidates, packageRoot } from './loader.js';
