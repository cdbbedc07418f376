// The partial whitening (fitWhitening / applyWhitening / encode / decode) on synthetic Gaussian data of a
// known covariance: it finds the strong directions, whitens them as the shrinkage says, ignores class-mean
// directions when given labels, is reproducible for a seed, and its file format refuses damage.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  applyWhitening,
  centreWhitening,
  decodeWhitening,
  encodeWhitening,
  fitWhitening,
  isWhitening,
  whiteningId,
  type Whitening,
} from '../src/quantize/whitening.js';
import { Rng } from '../src/util/rng.js';
import { seedFor } from './helpers/memory-random.js';

const seed = seedFor('19.whitening');

function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
function dot(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, len: number): number {
  let s = 0;
  for (let t = 0; t < len; t++) s += a[ao + t] * b[bo + t];
  return s;
}
/** `count` random orthonormal directions of length dim (Gram-Schmidt on Gaussian vectors). */
function orthonormal(rng: Rng, count: number, dim: number): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < count) {
    const v = Float64Array.from({ length: dim }, () => gaussian(rng));
    for (const u of out) {
      const p = dot(v, 0, u, 0, dim);
      for (let t = 0; t < dim; t++) v[t] -= p * u[t];
    }
    const n = Math.sqrt(dot(v, 0, v, 0, dim));
    out.push(v.map((x) => x / n));
  }
  return out;
}

/**
 * n rows of dim: mean `offset`, isotropic noise of variance 1, plus variance `strengths[i]` along
 * directions[i] (so the covariance is I + sum strengths[i] u_i u_i^T).
 */
function sample(rng: Rng, n: number, dim: number, directions: Float64Array[], strengths: number[], offset = 3): Float32Array {
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    for (let t = 0; t < dim; t++) out[r * dim + t] = offset + gaussian(rng);
    directions.forEach((u, i) => {
      const a = Math.sqrt(strengths[i]) * gaussian(rng);
      for (let t = 0; t < dim; t++) out[r * dim + t] += a * u[t];
    });
  }
  return out;
}
/** Variance of the rows of x (n x dim) along unit direction u. */
function varianceAlong(x: Float32Array, n: number, dim: number, u: Float64Array): number {
  let s = 0;
  let q = 0;
  for (let r = 0; r < n; r++) {
    const p = dot(x, r * dim, u, 0, dim);
    s += p;
    q += p * p;
  }
  return q / n - (s / n) ** 2;
}
function cosWithBasis(w: Whitening, i: number, u: Float64Array): number {
  const b = w.basis.subarray(i * w.dim, (i + 1) * w.dim);
  return dot(b, 0, u, 0, w.dim) / Math.sqrt(dot(b, 0, b, 0, w.dim));
}

const DIM = 32;
const N = 3000;
const STRENGTHS = [100, 50, 25];

const Fit = suite('fitWhitening');

Fit('recovers the strong directions of a known covariance (|cos| > 0.99), strongest first', () => {
  const rng = new Rng(seed);
  const dirs = orthonormal(rng, 3, DIM);
  const x = sample(rng, N, DIM, dirs, STRENGTHS);
  const w = fitWhitening(x, DIM, null, { d: 3 });
  assert.is(w.d, 3);
  assert.is(w.samples, N);
  assert.is(w.withinClass, false);
  for (let i = 0; i < 3; i++) {
    const c = Math.abs(cosWithBasis(w, i, dirs[i]));
    assert.ok(c > 0.99, `direction ${i}: |cos| ${c} (seed ${seed})`);
  }
  // The basis is orthonormal.
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const d = dot(w.basis, i * DIM, w.basis, j * DIM, DIM);
      assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-4, `basis ${i}.${j} = ${d}`);
    }
  }
  for (let t = 0; t < DIM; t++) assert.ok(Math.abs(w.mean[t] - 3) < 0.5, `mean[${t}] ${w.mean[t]}`);
});

Fit('whitened data has near-unit variance along the strong directions when shrinkage is small', () => {
  const rng = new Rng(seed + 1);
  const dirs = orthonormal(rng, 3, DIM);
  const x = sample(rng, N, DIM, dirs, STRENGTHS);
  const w = fitWhitening(x, DIM, null, { d: 3, shrink: 1e-3 });
  const z = applyWhitening(w, x, N);
  // Measured along the fitted directions (within |cos| 0.99 of the true ones, as above): with a tiny
  // shrinkage g is large, and it would magnify the sliver of isotropic noise a true direction leaves outside.
  for (let i = 0; i < 3; i++) {
    const v = varianceAlong(z, N, DIM, Float64Array.from(w.basis.subarray(i * DIM, (i + 1) * DIM)));
    assert.ok(Math.abs(v - 1) < 0.02, `direction ${i}: variance ${v}`);
    assert.ok(Math.abs(cosWithBasis(w, i, dirs[i])) > 0.99);
  }
  // Before whitening the variances were 1 + strength.
  assert.ok(varianceAlong(x, N, DIM, dirs[0]) > 80);
});

Fit('with the default shrinkage, variance along direction i is e_i / (e_i + s), the rest g^2 times theirs', () => {
  const rng = new Rng(seed + 2);
  const dirs = orthonormal(rng, 4, DIM);
  const x = sample(rng, N, DIM, dirs.slice(0, 3), STRENGTHS);
  const w = fitWhitening(x, DIM, null, { d: 3 });
  assert.is(w.shrink, 3);
  const z = applyWhitening(w, x, N);
  const meanEig = (1 * DIM + STRENGTHS.reduce((a, b) => a + b)) / DIM; // trace / dim of the true covariance
  const s = 3 * meanEig;
  assert.ok(Math.abs(w.g - 1 / Math.sqrt(s)) / w.g < 0.05, `g ${w.g}, expected about ${1 / Math.sqrt(s)}`);
  for (let i = 0; i < 3; i++) {
    const e = 1 + STRENGTHS[i];
    const v = varianceAlong(z, N, DIM, dirs[i]);
    assert.ok(Math.abs(v - e / (e + s)) < 0.05 * (e / (e + s)), `direction ${i}: variance ${v}, expected ${e / (e + s)}`);
  }
  // dirs[3] is a weak (noise) direction: only the common factor g applies.
  const v = varianceAlong(z, N, DIM, dirs[3]);
  assert.ok(Math.abs(v - w.g * w.g) < 0.1 * w.g * w.g, `weak direction: variance ${v}, expected ${w.g * w.g}`);
});

Fit('within-class labels remove the class-mean directions; without labels they dominate', () => {
  const rng = new Rng(seed + 3);
  const [between, within1, within2] = orthonormal(rng, 3, DIM);
  const classes = 6;
  const rows = 400;
  const x = new Float32Array(classes * rows * DIM);
  const labels: number[] = [];
  for (let c = 0; c < classes; c++) {
    // Class means spread far along `between` (variance ~400); the noise inside a class is strong along within1/2.
    const part = sample(rng, rows, DIM, [within1, within2], [40, 20], 0);
    const shift = (20 * (c - (classes - 1) / 2)) / 1.7;
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < DIM; t++) x[(c * rows + r) * DIM + t] = part[r * DIM + t] + shift * between[t];
      labels.push(c * 7 + 1); // any numbers serve as labels
    }
  }
  const inside = fitWhitening(x, DIM, labels, { d: 2 });
  assert.is(inside.withinClass, true);
  assert.ok(Math.abs(cosWithBasis(inside, 0, within1)) > 0.99, `within: first direction ${cosWithBasis(inside, 0, within1)}`);
  assert.ok(Math.abs(cosWithBasis(inside, 1, within2)) > 0.99, `within: second direction ${cosWithBasis(inside, 1, within2)}`);
  for (let i = 0; i < 2; i++)
    assert.ok(Math.abs(cosWithBasis(inside, i, between)) < 0.05, `within: direction ${i} still holds the class means`);
  const total = fitWhitening(x, DIM, null, { d: 2 });
  assert.ok(Math.abs(cosWithBasis(total, 0, between)) > 0.99, `total scatter: first direction ${cosWithBasis(total, 0, between)}`);
});

Fit('deterministic for a seed: the same bytes twice; another seed finds the same strong directions', () => {
  const rng = new Rng(seed + 4);
  const dirs = orthonormal(rng, 3, DIM);
  const x = sample(rng, 500, DIM, dirs, STRENGTHS);
  const a = encodeWhitening(fitWhitening(x, DIM, null, { d: 5, seed: 7 }));
  const b = encodeWhitening(fitWhitening(x, DIM, null, { d: 5, seed: 7 }));
  assert.ok(a.equals(b), 'same seed, same bytes');
  // Another seed starts the subspace iteration elsewhere but converges to the same strong directions (the
  // weak ones, of near-equal eigenvalues, may rotate among themselves).
  const first = decodeWhitening(a);
  const other = fitWhitening(x, DIM, null, { d: 5, seed: 8 });
  for (let i = 0; i < 3; i++) {
    const c = Math.abs(cosWithBasis(other, i, Float64Array.from(first.basis.subarray(i * DIM, (i + 1) * DIM))));
    assert.ok(c > 0.9999, `seed 8, direction ${i}: |cos| ${c} with seed 7's`);
  }
});

Fit('d, given or the default 128, is capped by the dimension and the rows available', () => {
  const rng = new Rng(seed + 5);
  const x = sample(rng, 6, 8, [], []);
  assert.is(fitWhitening(x, 8, null, { d: 8 }).d, 5);
  const more = sample(rng, 40, 8, [], []);
  assert.is(fitWhitening(more, 8, null).d, 8, 'default d on an 8-d backbone');
  assert.is(fitWhitening(more, 8, null, { d: 9 }).d, 8);
  assert.is(fitWhitening(more, 8, null, { d: 3 }).d, 3);
});

Fit('bad input is refused with a message naming the problem', () => {
  const rng = new Rng(seed + 6);
  const x = sample(rng, 10, 4, [], []);
  assert.throws(() => fitWhitening(x.subarray(0, 4), 4, null), /calibration: expected at least 2 feature rows of dimension 4, got 1/);
  assert.throws(() => fitWhitening(x.subarray(0, 7), 4, null), /calibration: expected at least 2 feature rows of dimension 4, got 1.75/);
  assert.throws(() => fitWhitening(x, 4, [1, 2, 3]), /labels: expected 10 labels \(one per row\), got 3/);
  assert.throws(
    () =>
      fitWhitening(
        x,
        4,
        Array.from({ length: 10 }, (_, i) => i),
      ),
    /calibration: within-class scatter needs more rows than labels, got 10 rows of 10 labels/,
  );
  assert.throws(() => fitWhitening(x, 4, null, { shrink: 0 }), /shrink: expected a finite number in \[0.001, 1000\], got number 0/);
  assert.throws(() => fitWhitening(x, 4, null, { d: 0 }), /d: expected an integer in \[1, 1048576\], got number 0/);
  assert.throws(() => fitWhitening(x, 4, null, { d: 2.5 }), /d: expected an integer in \[1, 1048576\], got number 2.5/);
  const bad = x.slice();
  bad[9] = NaN;
  assert.throws(() => fitWhitening(bad, 4, null), /features: value 9 is not finite \(NaN\)/);
  bad[9] = -Infinity;
  assert.throws(() => fitWhitening(bad, 4, null), /features: value 9 is not finite \(-Infinity\)/);
});

const File = suite('whitening file');

function fitted(): Whitening {
  const rng = new Rng(seed + 7);
  const dirs = orthonormal(rng, 2, 12);
  return fitWhitening(
    sample(rng, 200, 12, dirs, [30, 10]),
    12,
    Array.from({ length: 200 }, (_, i) => i % 3),
    { d: 4, shrink: 0.7 },
  );
}

File('a centring: the whitening of no directions subtracts the mean, and its file round-trips', () => {
  const rows = Float32Array.from({ length: 5 * 12 }, (_, i) => Math.sin(i) * 3 + (i % 12));
  const w = centreWhitening(rows, 12);
  assert.equal([w.d, w.samples, w.g, w.f.length, w.basis.length, w.withinClass], [0, 5, 1, 0, 0, false]);
  for (let t = 0; t < 12; t++) {
    let m = 0;
    for (let r = 0; r < 5; r++) m += rows[r * 12 + t] / 5;
    assert.ok(Math.abs(w.mean[t] - m) < 1e-5, `mean ${t}`);
  }
  const z = applyWhitening(w, rows, 5);
  for (let i = 0; i < z.length; i++) assert.ok(Math.abs(z[i] - (rows[i] - w.mean[i % 12])) < 1e-6, `row value ${i}`);
  const bytes = encodeWhitening(w);
  assert.is(bytes.length, 32 + 4 * 12);
  assert.equal(decodeWhitening(bytes), w);
  assert.throws(() => centreWhitening(new Float32Array(0), 12), /expected at least 1 feature row of dimension 12, got 0/);
  assert.throws(() => centreWhitening(Float32Array.of(1, NaN, 2, 3), 2), /features: column 1 has a value that is not finite/);
});

File('encode/decode round trip is byte-exact and keeps every field', () => {
  const w = fitted();
  const bytes = encodeWhitening(w);
  assert.is(bytes.length, 32 + 4 * (12 + 4 + 4 * 12));
  assert.ok(isWhitening(bytes));
  const back = decodeWhitening(bytes);
  assert.ok(encodeWhitening(back).equals(bytes), 'encode(decode(bytes)) = bytes');
  assert.equal(decodeWhitening(encodeWhitening(back)), back);
  assert.equal([back.dim, back.d, back.withinClass, back.samples], [12, 4, true, 200]);
  assert.equal(back.basis, w.basis);
  assert.equal(back.mean, w.mean);
  assert.equal(back.f, w.f);
  assert.is(back.g, Math.fround(w.g));
  assert.is(back.shrink, Math.fround(0.7));
  assert.is(whiteningId(back), whiteningId(w));
  // A view into a larger buffer decodes the same (byteOffset respected).
  const padded = Buffer.concat([Buffer.from([9, 9, 9]), bytes]);
  assert.ok(encodeWhitening(decodeWhitening(padded.subarray(3))).equals(bytes));
  // The decoded whitening whitens exactly as the fitted one (both are float32 inside).
  const x = Float32Array.from({ length: 3 * 12 }, (_, i) => Math.sin(i));
  assert.equal(applyWhitening(back, x, 3), applyWhitening({ ...w, g: back.g }, x, 3));
});

File('damaged files are refused with clear errors', () => {
  const bytes = encodeWhitening(fitted());
  const damaged = (write: (b: Buffer) => void) => {
    const b = Buffer.from(bytes);
    write(b);
    return () => decodeWhitening(b, 'w.egw');
  };
  const cases: [string, () => unknown, RegExp][] = [
    ['empty', () => decodeWhitening(new Uint8Array(0), 'w.egw'), /w.egw: not an engram whitening file \(expected "EGWH"\)/],
    ['header cut short', () => decodeWhitening(bytes.subarray(0, 20), 'w.egw'), /w.egw: not an engram whitening file/],
    [
      'truncated body',
      () => decodeWhitening(bytes.subarray(0, bytes.length - 1), 'w.egw'),
      new RegExp(`w.egw: expected ${bytes.length} bytes for dim 12 and d 4, got ${bytes.length - 1}`),
    ],
    [
      'padded body',
      () => decodeWhitening(Buffer.concat([bytes, Buffer.alloc(4)]), 'w.egw'),
      /w.egw: expected \d+ bytes for dim 12 and d 4, got \d+/,
    ],
    ['bad magic', damaged((b) => b.write('EGWX', 0, 'latin1')), /w.egw: not an engram whitening file/],
    ['a PQ codebook', damaged((b) => b.write('EGCB', 0, 'latin1')), /w.egw: not an engram whitening file/],
    ['bad version', damaged((b) => b.writeUInt32LE(2, 4)), /w.egw: whitening version 2 is not supported/],
    ['d above dim', damaged((b) => b.writeUInt32LE(13, 12)), /w.egw: damaged whitening header/],
    ['d zero for a body of d 4', damaged((b) => b.writeUInt32LE(0, 12)), /w.egw: expected 80 bytes for dim 12 and d 0, got \d+/],
    ['dim zero', damaged((b) => b.writeUInt32LE(0, 8)), /w.egw: damaged whitening header/],
    ['unknown flag', damaged((b) => b.writeUInt32LE(2, 16)), /w.egw: damaged whitening header/],
    ['NaN in the mean', damaged((b) => b.writeFloatLE(NaN, 32)), /w.egw: whitening holds values that are not finite/],
    ['Infinity in f', damaged((b) => b.writeFloatLE(Infinity, 32 + 48)), /w.egw: whitening holds values that are not finite/],
    ['NaN in the basis', damaged((b) => b.writeFloatLE(NaN, bytes.length - 4)), /w.egw: whitening holds values that are not finite/],
    ['g zero', damaged((b) => b.writeFloatLE(0, 28)), /w.egw: whitening holds values that are not finite/],
    ['g NaN', damaged((b) => b.writeFloatLE(NaN, 28)), /w.egw: whitening holds values that are not finite/],
  ];
  for (const [what, fn, message] of cases) assert.throws(fn, message, what);
  assert.not.ok(isWhitening(bytes.subarray(0, 3)));
  assert.not.ok(isWhitening(Buffer.from('EGCB')));
  // The default source name is "whitening".
  assert.throws(() => decodeWhitening(new Uint8Array(4)), /^whitening: not an engram whitening file/);
});

Fit.run();
File.run();
