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
  /** Int32Array [batch x classes] of counter sums over each code's neurons; needs counters. */
  scoreCounts(codes: Uint32Array, offsets: Uint32Array | null, active: number, kernel?: 'active' | 'scalar'): Int32Array;
  /** Halves every counter of one class, rounding up (no connection disappears); needs counters. */
  halveClass(classId: number): void;
  /** Sum, sum of squares and largest of one class's counters over neurons [begin, end); needs counters. */
  classCounterMoments(classId: number, begin: number, end: number): { sum: number; sumSq: number; max: number };
  pruneMinCount(minCount: number): number;
  /** One threshold per class, each in [1, counterMax]; needs counters. Returns connections removed. */
  pruneMinCountPerClass(minCounts: Uint32Array): number;
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

/** A JPEG decoded by the fast path: pixels as stored (orientation NOT applied), at the DCT scale chosen. */
export interface NativeJpegResult {
  /** width * height * channels bytes, rows top to bottom, channels interleaved. */
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
  /** EXIF orientation 1..8 (1 when absent); 5..8 mean width and height are swapped on display. */
  orientation: number;
  /** DCT scale used: M/8 for M in 1..8 (1 = full size). */
  scale: number;
}

/** The displayed size and DCT scale a JPEG decode would produce, read from the file's header. */
export interface NativeJpegPlan {
  width: number;
  height: number;
  orientation: number;
  scale: number;
}

/** Whether this build has the libjpeg fast path, and the libjpeg headers it was compiled with. */
export interface NativeJpegInfo {
  available: boolean;
  version: string | null;
}

/** 8-bit pixels, rows top to bottom, channels interleaved: width * height * channels bytes. */
export interface NativePixels {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 or 3. */
  channels: number;
}

/**
 * One axis of a resampling (src/images/resample.ts tapsFor): output i reads count[i] source pixels from
 * first[i] with weights[i * taps .. i * taps + count[i]), fixed point with 1 << 14 for 1.
 */
export interface NativeTaps {
  first: Int32Array;
  count: Int32Array;
  weights: Int16Array;
  /** Weights per output (the row length of `weights`), 1..4096. */
  taps: number;
}

/** The tap tables of both axes: h has one entry per output column, v one per output row. */
export interface NativeTapTables {
  h: NativeTaps;
  v: NativeTaps;
}

/** Where a resampled image goes: width * height * channels floats of `out` from `offset`, as value * scale + bias. */
export interface NativeTensorSlot {
  width: number;
  height: number;
  /** 1 or 3: the model's channels. */
  channels: number;
  /** Planar (NCHW) when true, interleaved (NHWC) when false. */
  nchw: boolean;
  /** Per output channel. */
  scale: Float32Array;
  bias: Float32Array;
  /** Output channel c reads source channel source[c] (a BGR model swaps); unused for a 1-channel source. */
  source: Uint8Array;
  out: Float32Array;
  offset: number;
}

/** What decodeJpegInto decodes: the decodeJpeg arguments, and the displayed size jpegPlan announced for them. */
export interface NativeJpegIntoDecode {
  minWidth: number;
  minHeight: number;
  channels: 1 | 3;
  width: number;
  height: number;
}

/** One block of the sparse encoder: the rotation rounds of sparse.ts concatenated (round r at r * dim, r * size). */
export interface NativeSparseBlock {
  begin: number;
  neurons: number;
  k: number;
  /** Reads the whitened features. */
  white: boolean;
  /** rounds x dim signs (+-1). */
  inSign: Float64Array;
  /** rounds x size: each round a permutation of [0, size), size = dim padded to a power of two. */
  perm: Uint32Array;
  /** rounds x size signs (+-1). */
  midSign: Float64Array;
}

/** The whitening the white blocks read (src/quantize/whitening.ts), copied by the constructor. */
export interface NativeSparseWhitening {
  d: number;
  mean: Float32Array;
  f: Float32Array;
  g: number;
  basis: Float32Array;
}

/** engram::SparseEncoder: SparseQuantizer's encode, bit for bit the TypeScript reference. */
export interface NativeSparseEncoder {
  /** Uint32Array [rows x active]: per block its k indices ascending. Non-finite features throw a RangeError. */
  encode(features: Float32Array, rows: number): Uint32Array;
  /** The whitened features [rows x dim] (float32), as applyWhitening gives them; throws without a whitening. */
  whiten(features: Float32Array, rows: number): Float32Array;
}

export interface NativeSparseEncoderConstructor {
  new (dim: number, blocks: NativeSparseBlock[], whitening: NativeSparseWhitening | null): NativeSparseEncoder;
}

export interface NativeBinding {
  version(): string;
  simd(): NativeSimdInfo;
  /**
   * x86-64: the exact int8 dot-product instructions the CPU has and the OS enables ('avx512_vnni', 'avx_vnni')
   * or 'none'; null on other architectures (whose int8 kernels are exact).
   */
  int8Dot(): 'avx512_vnni' | 'avx_vnni' | 'none' | null;
  Memory: NativeMemoryConstructor;
  SparseEncoder: NativeSparseEncoderConstructor;
  /** Rows of Q (l x dim) times R^T R / n (R: n x dim), as fitWhitening's reference computes them, bit for bit. */
  scatterTimes(R: Float64Array, n: number, dim: number, Q: Float64Array, l: number): Float64Array;
  /** Modified Gram-Schmidt, twice, on the l rows of Q (l x dim) in place, bit for bit the reference. */
  orthonormalize(Q: Float64Array, l: number, dim: number): void;
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
  /**
   * Decodes a JPEG on the thread pool at the smallest DCT scale whose DISPLAYED size (after EXIF orientation) is
   * still >= minWidth x minHeight (1/1 when the image is smaller). Resolves null when the fast path does not
   * handle the bytes (not a JPEG, corrupt or truncated, CMYK/YCCK, an ICC profile, > 100 Mpixel, or a build
   * without libjpeg): decode them with sharp instead. Bad arguments throw synchronously.
   */
  decodeJpeg(data: Uint8Array, minWidth: number, minHeight: number, channels: 1 | 3): Promise<NativeJpegResult | null>;
  /**
   * Resamples 8-bit pixels into one image slot of a float tensor with the caller's tap tables (see
   * src/images/resample.ts, whose TypeScript passes this repeats bit for bit), then value * scale + bias.
   * Weights are fixed point, 1 << 14 for 1 (zero past each count); one output's weights may add up to at most
   * 32767 in absolute value. Tables that break either rule throw a RangeError naming the table and output
   * ("taps.h.weights: ..."); an unknown property is a RangeError too.
   */
  resampleInto(src: NativePixels, taps: NativeTapTables, slot: NativeTensorSlot): void;
  jpeg(): NativeJpegInfo;
  /**
   * What decodeJpeg would produce for these arguments, from the header alone: the displayed size (after EXIF
   * orientation), the orientation and the DCT scale; null when the fast path would not handle the file.
   */
  jpegPlan(data: Uint8Array, minWidth: number, minHeight: number, channels: 1 | 3): NativeJpegPlan | null;
  /**
   * Decodes a JPEG, applies its EXIF orientation and resamples it into one image slot of `slot.out`, all on the
   * thread pool. decode.width x decode.height is the size jpegPlan announced, and the taps are for that size (see
   * resampleInto). Resolves true when the slot was written, false when the file is not handled after all
   * (damaged data, a size other than announced, a build without libjpeg): then decode it with sharp.
   */
  decodeJpegInto(data: Uint8Array, decode: NativeJpegIntoDecode, taps: NativeTapTables, slot: NativeTensorSlot): Promise<boolean>;
}
