// bench:memory: speed of the binary memory, native vs the TypeScript reference, and query time as the number
// of stored examples grows, side by side with a float kNN baseline. Medians of repeated runs; the last line
// printed is one JSON object. Usage: node dist/bench/memory.js [--quick]
import { Rng } from '../src/util/rng.js';
import { BinaryMemory, ReferenceMemory } from '../src/memory/index.js';
import { pqEncode, pqEncodeReference } from '../src/quantize/pq-encode.js';
import { SPARSE_DEFAULTS, SparseQuantizer } from '../src/quantize/sparse.js';
import { CALIBRATION_ROWS, ownShrink } from '../src/learner/own-whitening.js';
import { fitWhitening, nativeFitProducts, REFERENCE_FIT_PRODUCTS } from '../src/quantize/whitening.js';
import { loadBinding } from '../src/native/index.js';
import { LearnerCore } from '../src/learner/core.js';
import os from 'node:os';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 9;
const NEURONS = 16384;
const PARTS = 64;
const K = NEURONS / PARTS; // 256 anchors per part
const ACTIVE = PARTS;

// Deterministic data: the numbers measure time, not accuracy, but runs must be repeatable.
const seeded = new Rng(20261127);
const r = (): number => seeded.next();

/** `count` PQ-shaped codes: one active neuron per part, as pqEncode produces. */
function pqCodes(count: number): Uint32Array {
  const out = new Uint32Array(count * ACTIVE);
  for (let i = 0; i < count; i++) for (let p = 0; p < PARTS; p++) out[i * ACTIVE + p] = p * K + Math.floor(r() * K);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Times are CPU microseconds of this process (user + system) by default: on a small machine shared with
// other jobs, wall time measures the scheduler as much as the code. --wall switches to wall-clock time.
// Both are recorded per run; `wallSeen` keeps the wall times of labelled measurements for the report.
const useWall = process.argv.includes('--wall');
const wallSeen: Record<string, number[]> = {};

/** Median over `runs` of the mean microseconds per call of fn(i), i = 0 .. calls-1. */
function timeUs(calls: number, fn: (i: number) => void, runs = RUNS, label?: string): number {
  for (let i = 0; i < Math.min(calls, 20); i++) fn(i); // warm-up
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let k = 0; k < runs; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn(i);
    wall.push(Number(process.hrtime.bigint() - t0) / 1000 / calls);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / calls);
  }
  if (label) (wallSeen[label] ??= []).push(...wall);
  return median(useWall ? wall : cpu);
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const code = (codes: Uint32Array, i: number, n: number) => codes.subarray((i % n) * ACTIVE, ((i % n) + 1) * ACTIVE);

/** A memory of C classes filled with random PQ codes to density ~0.25 (science.md's query table). */
function filledMemory(classes: number, counterBits: 0 | 4 | 8 = 0): BinaryMemory {
  const m = new BinaryMemory({ neurons: NEURONS, counterBits, classes, active: ACTIVE });
  const perClass = 74; // 1 - (1 - 1/256)^74 ~ 0.25
  const labels = new Uint32Array(perClass * classes);
  for (let i = 0; i < labels.length; i++) labels[i] = Math.floor(i / perClass);
  m.store(pqCodes(labels.length), labels);
  return m;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const result: Record<string, unknown> = {
  machine: {
    arch: process.arch,
    node: process.version,
    kernels: loadBinding().simd().active,
    quick,
    cpus: os.cpus().length,
    loadavg: os.loadavg().map((x) => round(x, 1)),
  },
  clock: useWall ? 'wall' : 'cpu',
  geometry: { neurons: NEURONS, active: ACTIVE, parts: PARTS, anchors_per_part: K },
};

// 1. Scoring speed, native vs reference, C = 1000, measured side by side on the same memory and queries.
{
  const native = filledMemory(1000);
  const reference = ReferenceMemory.deserialize(native.serialize(), { active: ACTIVE });
  const queries = pqCodes(200);
  const nativeRuns: number[] = [];
  const refRuns: number[] = [];
  const scalarRuns: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    // interleaved so that machine noise hits both alike
    nativeRuns.push(timeUs(2000, (i) => native.score(code(queries, i, 200)), 1));
    scalarRuns.push(timeUs(2000, (i) => native.score(code(queries, i, 200), { kernel: 'scalar' }), 1));
    refRuns.push(timeUs(50, (i) => reference.score(code(queries, i, 200)), 1));
  }
  const n = median(nativeRuns);
  const s = median(scalarRuns);
  const ref = median(refRuns);
  result.score_speedup_native_vs_reference = round(ref / n, 1);
  result.score_us_c1000 = { native: round(n), native_scalar: round(s), reference: round(ref), density: round(native.stats().density, 3) };
  result.simd_speedup_vs_scalar_c1000 = round(s / n, 2);
  log(
    `score C=1000: native ${n.toFixed(2)} us (scalar kernel ${s.toFixed(2)} us), reference ${ref.toFixed(1)} us -> ${(ref / n).toFixed(1)}x`,
  );
}

// 2. Store and score throughput for C in {10, 100, 1000}.
{
  const store: Record<string, number> = {};
  const storeCounters: Record<string, number> = {};
  const score: Record<string, number> = {};
  const scoreBatch: Record<string, number> = {};
  const batch = pqCodes(1000);
  const queries = pqCodes(200);
  for (const classes of [10, 100, 1000]) {
    const labels = Uint32Array.from({ length: 1000 }, (_, i) => i % classes);
    const m = new BinaryMemory({ neurons: NEURONS, classes, active: ACTIVE });
    const m4 = new BinaryMemory({ neurons: NEURONS, counterBits: 4, classes, active: ACTIVE });
    // one call stores 1000 codes; per-code time is the call time / 1000
    store[classes] = Math.round(1e6 / (timeUs(20, () => m.store(batch, labels)) / 1000));
    storeCounters[classes] = Math.round(1e6 / (timeUs(20, () => m4.store(batch, labels)) / 1000));
    const f = filledMemory(classes);
    score[classes] = Math.round(1e6 / timeUs(2000, (i) => f.score(code(queries, i, 200))));
    scoreBatch[classes] = Math.round(1e6 / (timeUs(20, () => f.score(queries)) / 200));
    log(
      `C=${classes}: store ${store[classes]}/s (4-bit counters ${storeCounters[classes]}/s), score ${score[classes]}/s one per call, ${scoreBatch[classes]}/s in batches of 200`,
    );
  }
  result.store_per_s = store;
  result.store_per_s_counters4 = storeCounters;
  result.score_per_s = score;
  result.score_per_s_batch200 = scoreBatch;
}

// 3. Query time as stored examples grow: the memory (10 classes) against brute-force cosine kNN (k = 5)
//    over 1280-float features (MobileNetV2's feature size) kept for every example.
{
  const DIM = 1280;
  const CLASSES = 10;
  const sizes = quick ? [100, 1000, 10000] : [100, 1000, 10000, 100000];
  const mem: Record<string, number> = {};
  const memMin: Record<string, number> = {};
  const knn: Record<string, number> = {};
  const density: Record<string, number> = {};
  const memBytes: Record<string, number> = {};
  const knnBytes: Record<string, number> = {};
  const queries = pqCodes(200);
  // JIT warm-up of the whole score path first, so the smallest size is not measured on colder code.
  const warm = filledMemory(CLASSES);
  timeUs(20000, (i) => warm.score(code(queries, i, 200)), 3);
  const featureQueries = Float32Array.from({ length: 20 * DIM }, () => r() - 0.5);
  // Memory: one memory per size, measured in interleaved rounds so that machine noise hits every size alike.
  const memories = new Map<number, BinaryMemory>();
  for (const stored of sizes) {
    const m = new BinaryMemory({ neurons: NEURONS, counterBits: 4, classes: CLASSES, active: ACTIVE });
    for (let done = 0; done < stored; done += 10000) {
      const n = Math.min(10000, stored - done);
      m.store(
        pqCodes(n),
        Uint32Array.from({ length: n }, (_, i) => (done + i) % CLASSES),
      );
    }
    memories.set(stored, m);
    density[stored] = round(m.stats().density, 3);
    memBytes[stored] = m.stats().bytes;
  }
  // Many short rounds, alternating the order of sizes, so that neither position in a round nor a burst of
  // load on the shared machine favours one size.
  const rounds: Record<number, number[]> = Object.fromEntries(sizes.map((s) => [s, []]));
  for (let k = 0; k < 4 * RUNS; k++) {
    for (const stored of k % 2 ? [...sizes].reverse() : sizes) {
      const m = memories.get(stored)!;
      rounds[stored].push(timeUs(3000, (i) => m.score(code(queries, i, 200)), 1, `memory_${stored}`));
    }
  }
  for (const stored of sizes) {
    mem[stored] = round(median(rounds[stored]));
    memMin[stored] = round(Math.min(...rounds[stored]));
    log(`stored ${stored}: memory ${mem[stored]} us (density ${density[stored]}, ${memBytes[stored]} bytes)`);
  }
  // kNN: every example kept as a normalised float vector.
  for (const stored of sizes) {
    const examples = new Float32Array(stored * DIM);
    for (let i = 0; i < examples.length; i++) examples[i] = r() - 0.5;
    for (let e = 0; e < stored; e++) normalise(examples.subarray(e * DIM, (e + 1) * DIM));
    const labels = Uint8Array.from({ length: stored }, (_, i) => i % CLASSES);
    const calls = stored >= 100000 ? 3 : stored >= 10000 ? 10 : 50;
    knn[stored] = round(
      timeUs(
        calls,
        (i) => knnQuery(examples, labels, featureQueries.subarray((i % 20) * DIM, ((i % 20) + 1) * DIM), DIM, 5),
        quick ? 3 : 5,
        `knn_${stored}`,
      ),
    );
    knnBytes[stored] = examples.byteLength;
    log(`stored ${stored}: kNN ${knn[stored]} us (${knnBytes[stored]} bytes)`);
  }
  result.query_us_by_stored = { memory: mem, knn };
  result.memory_density_by_stored = density;
  result.memory_query_us_min_by_stored = memMin;
  result.bytes_by_stored = { memory: memBytes, knn: knnBytes };
  const first = String(sizes[0]);
  const last = String(sizes[sizes.length - 1]);
  result.memory_query_growth_first_to_last = round(mem[last] / mem[first], 3);
  // Flat means flat everywhere: the slowest size against the fastest, not only the two ends.
  const medians = sizes.map((s) => mem[s]);
  result.memory_query_max_ratio_over_sizes = round(Math.max(...medians) / Math.min(...medians), 3);
  result.knn_query_growth_first_to_last = round(knn[last] / knn[first], 1);
}

function normalise(v: Float32Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = 1 / Math.sqrt(s || 1);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}

/** Majority label among the k most cosine-similar stored examples (the TF.js knn-classifier recipe). */
function knnQuery(examples: Float32Array, labels: Uint8Array, q: Float32Array, dim: number, k: number): number {
  const n = labels.length;
  const bestS = new Float64Array(k).fill(-Infinity);
  const bestL = new Int32Array(k).fill(-1);
  for (let e = 0; e < n; e++) {
    let s = 0;
    const off = e * dim;
    for (let i = 0; i < dim; i++) s += examples[off + i] * q[i];
    if (s <= bestS[k - 1]) continue;
    let pos = k - 1;
    while (pos > 0 && s > bestS[pos - 1]) {
      bestS[pos] = bestS[pos - 1];
      bestL[pos] = bestL[pos - 1];
      pos--;
    }
    bestS[pos] = s;
    bestL[pos] = labels[e];
  }
  const votes = new Map<number, number>();
  let best = -1;
  for (const l of bestL) {
    const v = (votes.get(l) ?? 0) + 1;
    votes.set(l, v);
    if (best < 0 || v > (votes.get(best) ?? 0)) best = l;
  }
  return best;
}

// 4. PQ encoding (the quantizer's hot loop): one 1280-float vector, P = 64, K = 256.
{
  const features = Float32Array.from({ length: 1280 }, () => r());
  const anchors = Float32Array.from({ length: 256 * 1280 }, () => r());
  const shape = { batch: 1, dims: 1280, parts: 64, anchorCount: 256, probes: 1 };
  const nat = timeUs(50, () => pqEncode(features, anchors, shape));
  const ref = timeUs(20, () => pqEncodeReference(features, anchors, shape));
  const batch32 = Float32Array.from({ length: 32 * 1280 }, () => r());
  const natBatch = timeUs(5, () => pqEncode(batch32, anchors, { ...shape, batch: 32 })) / 32;
  result.pq_encode_us = {
    native: round(nat),
    native_per_image_batch32: round(natBatch),
    reference: round(ref),
    speedup: round(ref / nat, 1),
  };
  log(`pqEncode 1280 dims P=64 K=256: native ${nat.toFixed(1)} us, reference ${ref.toFixed(1)} us`);
}

// 5. The default learner's read (sparse codes, class columns of 8-bit counters read by cosine, two blocks:
// 3072 neurons with 768 active and 2048 with 512): one query through LearnerCore.predict, codes in, at 10, 100
// and 1000 classes, and at 10 classes as stored examples grow from 100 to 100,000.
{
  const q = {
    neurons: 5120,
    active: 1280,
    blocks: [
      { begin: 0, neurons: 3072, k: 768 },
      { begin: 3072, neurons: 2048, k: 512 },
    ],
  };
  const sparseCodes = (count: number): Uint32Array => {
    const out = new Uint32Array(count * q.active);
    for (let i = 0; i < count; i++) {
      let o = i * q.active;
      for (const b of q.blocks) {
        const picked = new Set<number>();
        while (picked.size < b.k) picked.add(b.begin + Math.floor(r() * b.neurons));
        for (const n of [...picked].sort((x, y) => x - y)) out[o++] = n;
      }
    }
    return out;
  };
  const core = (classes: number, perClass: number): LearnerCore => {
    const c = new LearnerCore({
      neurons: q.neurons,
      active: q.active,
      counterBits: 8,
      refine: false,
      minCount: 1,
      read: 'cosine',
      blocks: q.blocks,
      mix: 30,
    });
    const batch = sparseCodes(Math.min(perClass, 50));
    for (let k = 0; k < classes; k++) {
      for (let done = 0; done < perClass; done += 50) {
        const rows = Math.min(50, perClass - done);
        c.apply({ op: 'learn', label: `c${k}`, codes: batch.subarray(0, rows * q.active), rows, active: q.active });
      }
    }
    return c;
  };
  const queries = sparseCodes(100);
  const one = (i: number) => queries.subarray((i % 100) * q.active, ((i % 100) + 1) * q.active);
  // A store answers queries long after it learned. On the shared 2-core machine the first few thousand queries
  // after a store is built run up to twice as slow (with the earlier kernels too, whichever read is timed first),
  // so each read is warmed by 3000 queries before it is timed: the steady state a long-running store sees.
  const settled = (fn: (i: number) => unknown): void => {
    for (let i = 0; i < 3000; i++) fn(i);
  };
  const byClasses: Record<string, number> = {};
  let sumsAt1000 = 0;
  for (const classes of [10, 100, 1000]) {
    const c = core(classes, 5);
    settled((i) => c.predict(one(i), 1, 3));
    byClasses[classes] = round(timeUs(classes === 1000 ? 200 : 1000, (i) => c.predict(one(i), 1, 3)));
    // Where the time goes at 1000 classes: the counter sums alone (the native kernel reading 1280 rows of 1000
    // counters, and its call); the rest is the read's arithmetic per class and the ranking, in TypeScript.
    if (classes === 1000) {
      const offsets = Uint32Array.of(0, q.blocks[0].k, q.active);
      sumsAt1000 = round(timeUs(200, (i) => c.memory.scoreCounts({ indices: one(i), offsets })));
    }
  }
  const byStored: Record<string, number> = {};
  for (const stored of [100, 1000, 10000, 100000]) {
    const c = core(10, stored / 10);
    settled((i) => c.predict(one(i), 1, 3));
    byStored[stored] = round(timeUs(1000, (i) => c.predict(one(i), 1, 3)));
  }
  const vals = Object.values(byStored);
  result.cosine_read_query_us = {
    byClasses,
    counterSumsAt1000Classes: sumsAt1000,
    byStoredExamplesAt10Classes: byStored,
    maxRatioOverStored: round(Math.max(...vals) / Math.min(...vals)),
  };
  log(
    `cosine read, one query: ${JSON.stringify(byClasses)} us by classes (counter sums ${sumsAt1000} us of it at 1000); ${JSON.stringify(byStored)} us by stored examples (10 classes)`,
  );
}

// 6. The sparse quantizer's encode (the default quantizer: rotation + top-k per block), native against its
// TypeScript reference, per row, for MobileNetV2's 1280-d features and engram-glyph's 128-d ones; raw block
// alone, and with the white block (a whitening of 128 directions, which the raw block does not need). One row
// per call (a single learn or predict) and 8 per call (the live loop's batch).
{
  const sparse: Record<string, Record<string, number>> = {};
  for (const dim of [1280, 128]) {
    const fit = Float32Array.from({ length: 400 * dim }, () => r() * 2 - 1);
    const whitening = fitWhitening(fit, dim, null, { d: Math.min(128, dim) });
    for (const white of [false, true]) {
      const q = new SparseQuantizer(dim, SPARSE_DEFAULTS, white ? whitening : null);
      const x = Float32Array.from({ length: 8 * dim }, () => r());
      const one = x.subarray(0, dim);
      const ts = timeUs(quick ? 50 : 200, () => q.encodeReference(one, 1));
      const native = timeUs(quick ? 200 : 1000, () => q.encode(one, 1));
      const native8 = timeUs(quick ? 25 : 125, () => q.encode(x, 8)) / 8;
      const ts8 = timeUs(quick ? 10 : 25, () => q.encodeReference(x, 8)) / 8;
      sparse[`d${dim}_${white ? 'white' : 'raw'}`] = {
        reference: round(ts),
        native: round(native),
        reference_per_row_batch8: round(ts8),
        native_per_row_batch8: round(native8),
        speedup: round(ts / native, 1),
      };
    }
  }
  result.sparse_encode_us_per_row = sparse;
  log(
    `sparse encode, us per row (reference / native): ${Object.entries(sparse)
      .map(([k, v]) => `${k} ${v.reference} / ${v.native}`)
      .join(', ')}`,
  );
}

// 7. The store's own whitening: the fit on the most examples it ever sees (CALIBRATION_ROWS rows of MobileNetV2's
// 1280 dimensions, within-class over 10 labels), which runs once, in the turn of the learn that reaches it, and
// on half that; with the addon's scatter products (the default) and with their TypeScript references, side by
// side. Milliseconds of CPU, median of 3 fits (1 with --quick).
{
  const dim = 1280;
  const fits: Record<string, Record<string, number>> = { native: {}, reference: {} };
  for (const rows of [CALIBRATION_ROWS / 2, CALIBRATION_ROWS]) {
    const x = Float32Array.from({ length: rows * dim }, () => r() * 2 - 1);
    const labels = Array.from({ length: rows }, (_, i) => i % 10);
    const opts = { seed: 1, shrink: ownShrink(rows) };
    for (const [name, products] of [
      ['native', nativeFitProducts()],
      ['reference', REFERENCE_FIT_PRODUCTS],
    ] as const)
      fits[name][String(rows)] = round(timeUs(1, () => fitWhitening(x, dim, labels, opts, products), quick ? 1 : 3) / 1000, 0);
  }
  result.whitening_fit_ms = fits;
  log(
    `own whitening fit, ms (native / reference): ${Object.keys(fits.native)
      .map((k) => `${k} rows ${fits.native[k]} / ${fits.reference[k]}`)
      .join(', ')}`,
  );
}

const targets = {
  cosine_read_query_at_most_50us_at_1000_classes:
    (result.cosine_read_query_us as { byClasses: Record<string, number> }).byClasses['1000'] <= 50,
  cosine_read_flat_within_25pct: (result.cosine_read_query_us as { maxRatioOverStored: number }).maxRatioOverStored <= 1.25,
  score_speedup_at_least_20x: (result.score_speedup_native_vs_reference as number) >= 20,
  memory_query_flat_within_25pct: (result.memory_query_max_ratio_over_sizes as number) <= 1.25,
  knn_grows: (result.knn_query_growth_first_to_last as number) > 2,
};
result.targets_met = targets;
result.wall_us_by_stored = Object.fromEntries(Object.entries(wallSeen).map(([k, v]) => [k, round(median(v))]));
console.log(JSON.stringify(result));
