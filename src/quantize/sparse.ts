// The sparse expansion quantizer: each feature vector is spread over many neurons by a fixed, seeded
// random rotation (a subsampled randomized Hadamard transform: signs, zero padding, a permutation and two
// fast Walsh-Hadamard passes) and the k largest outputs are kept active (winner-take-all), as the fly's
// olfactory circuit does (Dasgupta, Stevens & Navlakha 2017). Two blocks share one code space:
//   raw    - the features as they are: data-free, so it works the moment a backbone is pulled;
//   white  - the features after a partial whitening (whitening.ts), present only when one was fitted.
// Neurons of block b are [begin, begin + neurons); a code lists the raw block's k indices, then the white
// block's, each ascending. The memory reads each block on its own (docs/learner.md). With a final whitening
// the 'white' layout gives every neuron to one white block (same code size).
// encode runs in the native addon (native/core/sparse.cc) with the rotation parameters generated here from
// the seeded Rng; encodeReference is the same definition in TypeScript, and the two agree bit for bit.
import { loadBinding } from '../native/loader.js';
import type { NativeSparseBlock, NativeSparseEncoder } from '../native/binding.js';
import { Rng } from '../util/rng.js';
import { int, typed } from '../util/validate.js';
import { applyWhitening, type Whitening } from './whitening.js';
import { checkFeatures, type Quantizer } from './quantizer.js';

export interface SparseBlock {
  name: 'raw' | 'white';
  /** First neuron of the block. */
  begin: number;
  neurons: number;
  /** Active neurons of the block in every code. */
  k: number;
}

export interface SparseOptions {
  /** Raw block neurons and active count. */
  neurons: number;
  k: number;
  /** White block neurons and active count (used only with a whitening). */
  whiteNeurons: number;
  whiteK: number;
  /**
   * 'split' (the default): the raw block, then the white block when there is a whitening. 'white': one white
   * block of all the neurons (neurons + whiteNeurons, k + whiteK active): the same code size and bytes, for a
   * whitening that is final (the store's own, after its last fit: docs/learner.md). Needs a whitening.
   */
  layout?: 'split' | 'white';
}

export const SPARSE_DEFAULTS: SparseOptions = { neurons: 3072, k: 768, whiteNeurons: 2048, whiteK: 512, layout: 'split' };

const RAW_SEED = 0x5eed01;
const WHITE_SEED = 0x5eed02;

/** One seeded rotation: input dim -> `outputs` values, in rounds of a power-of-two length. */
class Rotation {
  readonly size: number;
  private readonly rounds: { inSign: Float64Array; perm: Uint32Array; midSign: Float64Array }[] = [];

  constructor(
    readonly dim: number,
    readonly outputs: number,
    seed: number,
  ) {
    let size = 1;
    while (size < dim) size *= 2;
    this.size = size;
    const rng = new Rng(seed);
    const sign = (n: number) => Float64Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1));
    for (let r = 0; r * size < outputs; r++) {
      const inSign = sign(dim);
      const perm = Uint32Array.from(rng.shuffle(Array.from({ length: size }, (_, i) => i)));
      this.rounds.push({ inSign, perm, midSign: sign(size) });
    }
  }

  /** The rounds concatenated, as the native encoder takes them. */
  native(block: SparseBlock, white: boolean): NativeSparseBlock {
    const { dim, size, rounds } = this;
    const inSign = new Float64Array(rounds.length * dim);
    const perm = new Uint32Array(rounds.length * size);
    const midSign = new Float64Array(rounds.length * size);
    rounds.forEach((r, i) => {
      inSign.set(r.inSign, i * dim);
      perm.set(r.perm, i * size);
      midSign.set(r.midSign, i * size);
    });
    return { begin: block.begin, neurons: block.neurons, k: block.k, white, inSign, perm, midSign };
  }

  /** Writes the first `outputs` rotated values of x into out. */
  apply(x: Float32Array, xo: number, out: Float64Array, buf: Float64Array): void {
    const { dim, size, outputs } = this;
    let written = 0;
    for (const { inSign, perm, midSign } of this.rounds) {
      buf.fill(0);
      for (let t = 0; t < dim; t++) buf[perm[t]] = x[xo + t] * inSign[t];
      fwht(buf, size);
      for (let t = 0; t < size; t++) buf[t] *= midSign[t];
      fwht(buf, size);
      const take = Math.min(size, outputs - written);
      out.set(buf.subarray(0, take), written);
      written += take;
    }
  }
}

/** In-place fast Walsh-Hadamard transform of a power-of-two length (unnormalised). */
function fwht(a: Float64Array, n: number): void {
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const x = a[j];
        const y = a[j + h];
        a[j] = x + y;
        a[j + h] = x - y;
      }
    }
  }
}

/**
 * Writes the indices of the k largest of v[0..n) (ties: lower index first), ascending, plus offset, into
 * out at position o. scratch must hold n values.
 */
function topK(v: Float64Array, n: number, k: number, out: Uint32Array, o: number, offset: number, scratch: Float64Array): void {
  scratch.set(v.subarray(0, n));
  // Quickselect for the k-th largest value.
  let lo = 0;
  let hi = n - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = scratch[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (scratch[i] > pivot) i++;
      while (scratch[j] < pivot) j--;
      if (i <= j) {
        const t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  const threshold = scratch[want];
  let above = 0;
  for (let t = 0; t < n; t++) if (v[t] > threshold) above++;
  let ties = k - above;
  let w = o;
  for (let t = 0; t < n; t++) {
    if (v[t] > threshold || (v[t] === threshold && ties-- > 0)) out[w++] = offset + t;
  }
}

export class SparseQuantizer implements Quantizer {
  readonly kind = 'sparse' as const;
  readonly neurons: number;
  readonly active: number;
  readonly blocks: SparseBlock[];
  private readonly raw: Rotation;
  private readonly white: Rotation | null;
  /** The native encoder: a copy of the rotations and the whitening, made once here. */
  private readonly native: NativeSparseEncoder;

  constructor(
    readonly dim: number,
    readonly options: SparseOptions = SPARSE_DEFAULTS,
    readonly whitening: Whitening | null = null,
  ) {
    const { neurons, k, whiteNeurons, whiteK } = options;
    if (!Number.isInteger(neurons) || neurons < 2 || neurons > 1 << 20)
      throw new RangeError(`quantizer.neurons: expected an integer in [2, ${1 << 20}], got number ${neurons}`);
    if (!Number.isInteger(k) || k < 1 || k >= neurons)
      throw new RangeError(`quantizer.k: expected an integer in [1, ${neurons - 1}], got number ${k}`);
    if (whitening && whitening.dim !== dim)
      throw new RangeError(`whitening: fitted on ${whitening.dim}-d features, the backbone gives ${dim}`);
    this.blocks = [{ name: 'raw', begin: 0, neurons, k }];
    this.raw = new Rotation(dim, neurons, RAW_SEED);
    this.white = null;
    const layout = options.layout ?? 'split';
    if (layout !== 'split' && layout !== 'white')
      throw new RangeError(`quantizer.layout: expected "split" or "white", got ${JSON.stringify(layout)}`);
    if (layout === 'white' && !whitening) throw new RangeError('quantizer.layout: "white" needs a whitening');
    if (whitening) {
      if (!Number.isInteger(whiteNeurons) || whiteNeurons < 2 || whiteNeurons > 1 << 20)
        throw new RangeError(`quantizer.whiteNeurons: expected an integer in [2, ${1 << 20}], got number ${whiteNeurons}`);
      if (!Number.isInteger(whiteK) || whiteK < 1 || whiteK >= whiteNeurons)
        throw new RangeError(`quantizer.whiteK: expected an integer in [1, ${whiteNeurons - 1}], got number ${whiteK}`);
      if (layout === 'white') {
        this.blocks = [{ name: 'white', begin: 0, neurons: neurons + whiteNeurons, k: k + whiteK }];
        this.white = new Rotation(dim, neurons + whiteNeurons, WHITE_SEED);
      } else {
        this.blocks.push({ name: 'white', begin: neurons, neurons: whiteNeurons, k: whiteK });
        this.white = new Rotation(dim, whiteNeurons, WHITE_SEED);
      }
    }
    this.neurons = this.blocks.reduce((n, b) => n + b.neurons, 0);
    this.active = this.blocks.reduce((n, b) => n + b.k, 0);
    const blocks = this.blocks.map((b) => (b.name === 'raw' ? this.raw : this.white!).native(b, b.name === 'white'));
    const w = whitening && { d: whitening.d, mean: whitening.mean, f: whitening.f, g: whitening.g, basis: whitening.basis };
    this.native = new (loadBinding().SparseEncoder)(dim, blocks, w);
  }

  /** Encodes rows x dim features (natively) into rows x active indices: per block its k indices ascending. */
  encode(features: Float32Array, rows: number): Uint32Array {
    checkShape(this, features, rows);
    return this.native.encode(features, rows);
  }

  /** The features the white block reads (rows x dim, float32), natively; throws without a whitening. */
  whiten(features: Float32Array, rows: number): Float32Array {
    if (!this.whitening) throw new Error('whiten: this quantizer has no whitening');
    checkShape(this, features, rows);
    return this.native.whiten(features, rows);
  }

  /** encode in TypeScript: the reference the native encoder repeats bit for bit. */
  encodeReference(features: Float32Array, rows: number): Uint32Array {
    const { dim } = this;
    checkFeatures(this, features, rows);
    const out = new Uint32Array(rows * this.active);
    const widest = Math.max(...this.blocks.map((b) => b.neurons));
    const values = new Float64Array(widest);
    const scratch = new Float64Array(widest);
    const buf = new Float64Array(this.raw.size);
    const whitened = this.whitening ? applyWhitening(this.whitening, features, rows) : null;
    if (whitened) {
      for (let i = 0; i < whitened.length; i++)
        if (!Number.isFinite(whitened[i]))
          throw new RangeError(`features: row ${Math.floor(i / dim)} whitens to a value that is not finite in float32`);
    }
    for (let r = 0; r < rows; r++) {
      let o = r * this.active;
      for (const b of this.blocks) {
        const [rot, src] = b.name === 'raw' ? [this.raw, features] : [this.white!, whitened!];
        rot.apply(src, r * dim, values, buf);
        topK(values, b.neurons, b.k, out, o, b.begin, scratch);
        o += b.k;
      }
    }
    return out;
  }
}

/** Row count and length; the native encoder scans the values (same message as checkFeatures). */
function checkShape(q: Quantizer, features: Float32Array, rows: number): void {
  int('rows', rows);
  typed('features', features, Float32Array);
  if (features.length !== rows * q.dim) {
    throw new RangeError(`features: expected ${rows} x ${q.dim} = ${rows * q.dim} values, got Float32Array of length ${features.length}`);
  }
}
