// The native surface, declared once. Everything in TypeScript that talks to the addon goes through these
// types; the addon checks its arguments again with the same messages as the TypeScript wrappers.

/** Which query kernels the addon uses: `active` is what score() runs, `simd` what this CPU offers. */
export interface NativeSimdInfo {
  active: 'scalar' | 'avx2' | 'neon';
  simd: 'avx2' | 'neon' | null;
}

/** engram::Memory as seen from JS. Codes are (codes, offsets, active): offsets wins when not null. */
export interface NativeMemory {
  readonly neurons: number;
  readonly classes: number;
  readonly counterBits: number;
  /** Classes the rows can hold before they are regrown (doubles when exceeded). */
  readonly capacity: number;
  /** Appends `count` empty classes and returns the id of the first. */
  addClasses(count: number): number;
  store(codes: Uint32Array, offsets: Uint32Array | null, active: number, labels: Uint32Array): void;
  adjust(codes: Uint32Array, offsets: Uint32Array | null, active: number, labels: Uint32Array, delta: number): {
    added: number;
    removed: number;
  };
  /** Int32Array [batch x classes]; kernel 'scalar' forces the reference path (tests compare the two). */
  score(codes: Uint32Array, offsets: Uint32Array | null, active: number, kernel?: 'active' | 'scalar'): Int32Array;
  scoreMinCount(codes: Uint32Array, offsets: Uint32Array | null, active: number, minCount: number): Int32Array;
  pruneMinCount(minCount: number): number;
  pruneFanIn(maxFanIn: number): number;
  pruneTo(keep: number): number;
  clearClass(classId: number): number;
  connections(): number;
  connectionsPerClass(): Float64Array;
  fanInHistogram(): Float64Array;
  residentBytes(): number;
  merge(other: NativeMemory): void;
  clone(): NativeMemory;
  serialize(): Buffer;
}

export interface NativeMemoryConstructor {
  new (neurons: number, counterBits: number, classes: number): NativeMemory;
  deserialize(buffer: Uint8Array): NativeMemory;
}

export interface NativeBinding {
  version(): string;
  simd(): NativeSimdInfo;
  Memory: NativeMemoryConstructor;
  /** Uint32Array [batch x parts*probes] of neuron ids part*anchorCount + k, nearest first. */
  pqEncode(
    features: Float32Array,
    anchors: Float32Array,
    batch: number,
    dims: number,
    parts: number,
    anchorCount: number,
    probes: number,
  ): Uint32Array;
}
