#!/usr/bin/env node
// Keeps the figures quoted in README.md and docs/*.md equal to the committed benchmark results
// (bench/results/*.json), so no figure is copied by hand. In the Markdown a quoted figure sits between markers
// that render as nothing:
//
//   top-1 **<!-- n:demo.top1 -->94.2<!-- /n -->%**
//
// and FIGURES (or a family below it) says which result file, which value in it and how it is written.
//   node tools/docs-numbers.mjs           rewrite every marked figure from the results (npm run docs:numbers)
//   node tools/docs-numbers.mjs --check   change nothing; list each figure that differs and exit 1
// A marker whose name is unknown, or whose value is missing from the results, is an error: a typo cannot
// leave a figure unchecked. After re-running a benchmark: npm run bench:demo (or bench, ...) && npm run docs:numbers.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// How a value is written. Percentages stored as fractions (0..1) use pct1; stored as percent, num1.
const FORMATS = {
  pct1: (v) => (100 * v).toFixed(1),
  pct0: (v) => (100 * v).toFixed(0),
  num1: (v) => v.toFixed(1),
  num2: (v) => v.toFixed(2),
  num3: (v) => v.toFixed(3),
  int: (v) => Math.round(v).toLocaleString('en-US'),
  kb: (v) => `${Math.round(v / 1000)} KB`,
  mb2: (v) => `${(v / 1e6).toFixed(2)} MB`,
  ms0: (v) => `${Math.round(v / 1000).toLocaleString('en-US')} ms`,
  us0: (v) => `${Math.round(v)} us`,
  // Below 1 ms two decimals say something; above, one is plenty.
  ms: (v) => (v < 1 ? v.toFixed(2) : v.toFixed(1)),
};

/** name -> [results file under bench/results, path in it, format]. */
export const FIGURES = {
  // engram demo --json, written by npm run bench:demo.
  'demo.top1': ['demo.json', 'top1_accuracy', 'pct1'],
  'demo.open_set': ['demo.json', 'open_set_accuracy', 'pct1'],
  'demo.unknown': ['demo.json', 'unknown_rate', 'pct1'],
  'demo.connections': ['demo.json', 'connections_per_class', 'int'],
  'demo.compressed_bytes': ['demo.json', 'compressed_bytes_per_class', 'int'],
  'demo.serialized_bytes': ['demo.json', 'serialized_bytes_per_class', 'int'],
  'demo.resident_bytes': ['demo.json', 'resident_bytes', 'int'],
  'demo.seconds': ['demo.json', 'seconds', 'int'],
  'demo.top1_two_classes': ['demo.json', 'top1_accuracy_by_classes.1', 'pct0'],
  // npm run bench:default-backbone.
  'glyph.ncm1': ['default-backbone.json', 'glyph.ncm.1', 'num1'],
  'glyph.ncm5': ['default-backbone.json', 'glyph.ncm.5', 'num1'],
  'glyph.ncm10': ['default-backbone.json', 'glyph.ncm.10', 'num1'],
  'glyph.memory100': ['default-backbone.json', 'glyph.memory.codebookFromShippedCalibration.accuracy', 'num1'],
  'glyph.ms_batch32': ['default-backbone.json', 'msPerImageBatch32.glyph', 'ms'],
  'glyph.file': ['default-backbone.json', 'glyph.bytes', 'kb'],
  'mobilenet.ncm1': ['default-backbone.json', 'mobilenet.ncm.1', 'num1'],
  'mobilenet.ncm5': ['default-backbone.json', 'mobilenet.ncm.5', 'num1'],
  'mobilenet.ncm10': ['default-backbone.json', 'mobilenet.ncm.10', 'num1'],
  'mobilenet.memory100': ['default-backbone.json', 'mobilenet.memory.codebookFromMnistTrain.accuracy', 'num1'],
  'mobilenet.ms_batch32': ['default-backbone.json', 'msPerImageBatch32.mobilenet', 'ms'],
  'mobilenet.file': ['default-backbone.json', 'mobilenet.bytes', 'mb2'],
  'glyph.memory100_mnist_codebook': ['default-backbone.json', 'glyph.memory.codebookFromMnistTrain.accuracy', 'num1'],
  'glyph.bytes': ['default-backbone.json', 'glyph.bytes', 'int'],
  'mobilenet.bytes': ['default-backbone.json', 'mobilenet.bytes', 'int'],
  'mobilenet.cut_bytes': ['default-backbone.json', 'mobilenet.cutBytes', 'int'],
  'glyph.smaller_by': ['default-backbone.json', 'versusMobilenet.smallerBy', 'num1'],
  'glyph.smaller_than_cut_by': ['default-backbone.json', 'versusMobilenet.smallerThanCutBy', 'num1'],
  'glyph.faster_by': ['default-backbone.json', 'versusMobilenet.fasterBy', 'num1'],
  'glyph_fp32.ncm1': ['default-backbone.json', 'glyphFp32.ncm.1', 'num1'],
  'glyph_fp32.ncm5': ['default-backbone.json', 'glyphFp32.ncm.5', 'num1'],
  'glyph_fp32.ncm10': ['default-backbone.json', 'glyphFp32.ncm.10', 'num1'],
  'glyph_fp32.memory100': ['default-backbone.json', 'glyphFp32.memory.codebookFromMnistTrain.accuracy', 'num1'],
  'glyph_fp32.ms_batch32': ['default-backbone.json', 'msPerImageBatch32.glyphFp32', 'ms'],
  'glyph_fp32.bytes': ['default-backbone.json', 'glyphFp32.bytes', 'int'],
  'glyph.int8_minus_fp32_1': ['default-backbone.json', 'int8MinusFp32Points.1', 'num2'],
  'glyph.int8_minus_fp32_5': ['default-backbone.json', 'int8MinusFp32Points.5', 'num2'],
  'glyph.int8_minus_fp32_10': ['default-backbone.json', 'int8MinusFp32Points.10', 'num2'],
  'glyph.int8_loss': ['default-backbone.json', 'targets.int8LossVsFp32Points.measured', 'num2'],
  'glyph.ncm_ahead_1': ['default-backbone.json', 'versusMobilenet.ncmPointsAhead.1', 'num1'],
  'glyph.ncm_ahead_10': ['default-backbone.json', 'versusMobilenet.ncmPointsAhead.10', 'num1'],
  'glyph.memory_ahead': ['default-backbone.json', 'versusMobilenet.memoryPointsAhead', 'num1'],
  'default_backbone.load': ['default-backbone.json', 'machine.loadAverageAtStart', 'num2'],
  // node dist/bench/backbone.js --mirror: embed with mirror features over plain embed, same images and rounds.
  'backbone.mirror_cost_jpeg_t2': ['backbone-mirror.json', 'mirrorCostAtBatch8.jpeg640x480_t2', 'num2'],
  'backbone.mirror_cost_raw_t2': ['backbone-mirror.json', 'mirrorCostAtBatch8.raw224x224_t2', 'num2'],
  // npm run bench:int8-cpus: MobileNetV2 int8 natively and under qemu emulating Haswell (AVX2, no VNNI).
  'int8.cos_median': ['int8-cpus.json', 'onnxruntimeDefaults.cosineToNative.median', 'num2'],
  'int8.cos_p5': ['int8-cpus.json', 'onnxruntimeDefaults.cosineToNative.p5', 'num2'],
  'int8.ncm_native': ['int8-cpus.json', 'onnxruntimeDefaults.ncmTop1.nativeOnNative', 'num1'],
  'int8.ncm_emulated': ['int8-cpus.json', 'onnxruntimeDefaults.ncmTop1.emulatedOnEmulated', 'num1'],
  'int8.ncm_cross': ['int8-cpus.json', 'onnxruntimeDefaults.ncmTop1.nativeExamplesEmulatedQueries', 'num1'],
  'int8.ncm_cross_other': ['int8-cpus.json', 'onnxruntimeDefaults.ncmTop1.emulatedExamplesNativeQueries', 'num1'],
  // npm run bench:memory.
  'memory.score_speedup': ['memory.json', 'score_speedup_native_vs_reference', 'num1'],
  // The default learner's read (cosine over counters), one query, codes in.
  'memory.cosine_us_c10': ['memory.json', 'cosine_read_query_us.byClasses.10', 'num1'],
  'memory.cosine_us_c1000': ['memory.json', 'cosine_read_query_us.byClasses.1000', 'num1'],
  'memory.cosine_sums_us_c1000': ['memory.json', 'cosine_read_query_us.counterSumsAt1000Classes', 'num1'],
  'memory.cosine_us_100_stored': ['memory.json', 'cosine_read_query_us.byStoredExamplesAt10Classes.100', 'num1'],
  'memory.cosine_us_100000_stored': ['memory.json', 'cosine_read_query_us.byStoredExamplesAt10Classes.100000', 'num1'],
  'memory.score_us_native': ['memory.json', 'score_us_c1000.native', 'num1'],
  'memory.score_us_scalar': ['memory.json', 'score_us_c1000.native_scalar', 'num1'],
  'memory.score_us_reference': ['memory.json', 'score_us_c1000.reference', 'int'],
  'memory.whitening_fit_ms_4096': ['memory.json', 'whitening_fit_ms.native.4096', 'int'],
  'memory.whitening_fit_ms_4096_reference': ['memory.json', 'whitening_fit_ms.reference.4096', 'int'],
  'memory.simd_speedup': ['memory.json', 'simd_speedup_vs_scalar_c1000', 'num2'],
  // The sparse quantizer's encode, us per row: native and its TypeScript reference; 1280-d (MobileNetV2) and
  // 128-d (engram-glyph) features, raw block alone and with the white block.
  ...Object.fromEntries(
    ['1280', '128'].flatMap((d) =>
      ['raw', 'white'].flatMap((b) =>
        ['native', 'reference'].map((w) => [
          `memory.sparse_us_${w}_${d}_${b}`,
          ['memory.json', `sparse_encode_us_per_row.d${d}_${b}.${w}`, 'num1'],
        ]),
      ),
    ),
  ),
  'memory.query_us_100': ['memory.json', 'query_us_by_stored.memory.100', 'num2'],
  'memory.query_us_1000': ['memory.json', 'query_us_by_stored.memory.1000', 'num2'],
  'memory.query_us_10000': ['memory.json', 'query_us_by_stored.memory.10000', 'num2'],
  'memory.query_us_100000': ['memory.json', 'query_us_by_stored.memory.100000', 'num2'],
  'memory.query_flatness': ['memory.json', 'memory_query_max_ratio_over_sizes', 'num3'],
  'memory.knn_growth': ['memory.json', 'knn_query_growth_first_to_last', 'int'],
  'memory.resident_bytes': ['memory.json', 'bytes_by_stored.memory.100', 'int'],
  'memory.knn_us_100': ['memory.json', 'query_us_by_stored.knn.100', 'us0'],
  'memory.knn_us_100000': ['memory.json', 'query_us_by_stored.knn.100000', 'ms0'],
  // npm run bench:fleet.
  'fleet.change_bytes': ['fleet.json', 'wire.change_bytes_per_example', 'int'],
  'fleet.snapshot_bytes': ['fleet.json', 'wire.snapshot_bytes_per_example', 'int'],
  'fleet.state_bytes_per_class': ['fleet.json', 'wire.state_bytes_per_class', 'int'],
  'fleet.memory_bytes_per_class': ['fleet.json', 'wire.memory_serialized_bytes_per_class', 'int'],
  'fleet.merge_one_ms': ['fleet.json', 'merge.merge_one_change_ms', 'ms'],
  'fleet.merge_all_ms': ['fleet.json', 'merge.merge_all_ms', 'ms'],
  'fleet.view_ms': ['fleet.json', 'merge.view_rebuild_ms', 'ms'],
  'fleet.state_bytes': ['fleet.json', 'merge.state_bytes', 'int'],
  'fleet.memory_bytes': ['fleet.json', 'merge.memory_serialized_bytes', 'int'],
  'fleet.converge_ms': ['fleet.json', 'converge.converge_ms', 'int'],
  'fleet.converge_connected_ms': ['fleet.json', 'converge.converge_after_connected_ms', 'int'],
  'fleet.published_bytes': ['fleet.json', 'converge.published_bytes', 'int'],
};

// npm run bench (bench/results/results.json), Split protocol: results[.glyph].<mnist|fashion>.<method>.<what>,
// MobileNetV2 int8 unless "glyph" (engram-glyph) is named; method as the benchmark names it (ncm, slda, knn5,
// linear-joint, engram-units-ood, ...); what: final (accuracy), forgetting (points), bytes, compressed (bytes).
const RESULTS_FAMILY = /^results\.(?:(glyph)\.)?(mnist|fashion)\.([\w-]+)\.(final|forgetting|bytes|compressed)$/;
const RESULTS_FIELDS = {
  final: ['finalAccuracy', 'pct1'],
  forgetting: ['forgetting', 'pct1'],
  bytes: ['bytesPerClass', 'int'],
  compressed: ['compressedBytesPerClass', 'int'],
};

// npm run bench (bench/shots.ts): shots.[glyph.](mnist|fashion|cifar10|cifar10-mirror).<method>.<examples per class>, final
// top-1 in percent; MobileNetV2 int8 unless "glyph" is named.
const SHOTS_FAMILY = /^shots\.(?:(glyph)\.)?(mnist|fashion|cifar10|cifar10-mirror)\.([\w-]+)\.(\d+)$/;

// npm run bench:openset (bench/openset.ts): openset.[glyph.](mnist|fashion|cifar10|cifar10-odd)[-mirror].<shots>.(engram|engramRaw|peer).<what>
// (auroc, novel: novel answered unknown, right: known answered right, unknown: known answered unknown), and
// openset.cli.(digits|fashion).<change>.<what> for a store after a change made through the CLI, and
// openset.large.(mnist|fashion|cifar10).(engram|peer).<what> for the stores past the last fit.
const OPENSET_FAMILY =
  /^openset\.(?:(glyph)\.)?(mnist|fashion|cifar10|cifar10-odd|cifar10-mirror|cifar10-odd-mirror)\.(\d+)\.(engram|engramRaw|peer)\.(auroc|novel|right|unknown)$/;
const OPENSET_FIELDS = {
  auroc: ['auroc', 'num3'],
  novel: ['novelUnknown', 'pct1'],
  right: ['knownRight', 'pct1'],
  unknown: ['knownUnknown', 'pct1'],
};
const OPENSET_LARGE = /^openset\.large\.(mnist|fashion|cifar10)\.(engram|peer)\.(auroc|novel|right|unknown)$/;
const OPENSET_CLI = /^openset\.cli\.(digits|fashion)\.([\w-]+)\.(threshold|known_unknown|known_right|novel_unknown|accuracy|auroc)$/;
const OPENSET_CLI_FIELDS = {
  threshold: ['threshold', 'num3'],
  known_unknown: ['knownUnknown', 'pct1'],
  known_right: ['knownRight', 'pct1'],
  novel_unknown: ['novelUnknown', 'pct1'],
  accuracy: ['openSetAccuracy', 'pct1'],
  auroc: ['auroc', 'num3'],
};
// npm run bench:live: live.<glyph|mobilenet>.<view|learner>.<decode|bare|predict|live|ratio>, frames per second
// (ratio: live / bare in percent) at the view or learner decode size; *_batch: in batches of 8 frames.
const LIVE_FAMILY =
  /^live\.(glyph|mobilenet)\.(view|learner)\.(decode|bare|bare_batch|predict|predict_batch|live|ratio|ratio_batch|cpu_decode|cpu_bare|cpu_bare_batch|cpu_predict|cpu_predict_batch|cpu_live|cpu_loop_memory|bound_saturated|bound_own_core|bound_loop)$/;
const LIVE_FIELDS = {
  decode: ['decodeFps', 'int'],
  bare: ['bareFps', 'int'],
  bare_batch: ['bareBatchFps', 'int'],
  predict: ['predictFps', 'int'],
  predict_batch: ['predictBatchFps', 'int'],
  live: ['liveFps', 'int'],
  ratio: ['ratio', 'pct0'],
  ratio_batch: ['ratioBatch', 'pct0'],
  cpu_decode: ['cpuMsPerFrame.decode', 'num2'],
  cpu_bare: ['cpuMsPerFrame.bare', 'num2'],
  cpu_bare_batch: ['cpuMsPerFrame.bareBatch', 'num2'],
  cpu_predict: ['cpuMsPerFrame.predict', 'num2'],
  cpu_predict_batch: ['cpuMsPerFrame.predictBatch', 'num2'],
  cpu_live: ['cpuMsPerFrame.live', 'num2'],
  cpu_loop_memory: ['cpuMsPerFrame.loopFromMemory', 'num2'],
  bound_saturated: ['cpuBound.saturated', 'pct0'],
  bound_own_core: ['cpuBound.decoderOwnCore', 'pct0'],
  bound_loop: ['cpuBound.loopSaturated', 'pct0'],
};
// live.decoder.<mjpeg320|mjpeg640|yuyv640>.<before|after>: ffmpeg's CPU ms per frame without / with its options.
const LIVE_DECODER = /^live\.decoder\.(mjpeg320|mjpeg640|yuyv640)\.(before|after)$/;
const LIVE_INPUTS = { mjpeg320: 'mjpeg-320x240', mjpeg640: 'mjpeg-640x480', yuyv640: 'yuyv-640x480' };

// npm run bench:backbone: backbone.<field>.<png|jpeg640|jpeg320|raw>_t<1|2>, fast path at batch 8 (sharp_*: the
// sharp-only path beside it), and backbone.img_s.t<1|2>_b<1|8|32> (640x480 JPEG files through embed()).
const BACKBONE_FAMILY =
  /^backbone\.(share_cpu|share_wall|prepare_ms|model_ms|sharp_share_cpu|sharp_prepare_ms)\.(png|jpeg640|jpeg320|raw)_t([12])$/;
const BACKBONE_FIELDS = {
  share_cpu: ['outsideShareCpuAtBatch8', 'pct1'],
  share_wall: ['outsideShareWallAtBatch8', 'pct1'],
  prepare_ms: ['prepareCpuMsPerImageAtBatch8', 'num2'],
  model_ms: ['modelCpuMsPerImageAtBatch8', 'num2'],
  sharp_share_cpu: ['sharpOnlyAtBatch8.outsideShareCpu', 'pct1'],
  sharp_prepare_ms: ['sharpOnlyAtBatch8.prepareCpuMsPerImage', 'num1'],
};
const BACKBONE_INPUTS = { png: 'png28x28-digits', jpeg640: 'jpeg640x480', jpeg320: 'jpeg320x240', raw: 'raw224x224' };
const BACKBONE_RATE = /^backbone\.img_s\.(t[12]_b(?:1|8|32))$/;

/** Where a figure's value comes from: [file, path, format], or null for an unknown name. */
export function figureSource(name) {
  if (Object.hasOwn(FIGURES, name)) return FIGURES[name];
  const o = OPENSET_FAMILY.exec(name);
  if (o) {
    const [field, format] = OPENSET_FIELDS[o[5]];
    return ['openset.json', `scores[id=${o[1] ? 'engram-glyph' : 'mobilenetv2-12-int8'}-${o[2]}-${o[3]}].${o[4]}.${field}`, format];
  }
  const g = OPENSET_LARGE.exec(name);
  if (g) {
    const [field, format] = OPENSET_FIELDS[g[3]];
    return ['openset.json', `large[id=mobilenetv2-12-int8-${g[1]}-large].${g[2]}.${field}`, format];
  }
  const c = OPENSET_CLI.exec(name);
  if (c) {
    const [field, format] = OPENSET_CLI_FIELDS[c[3]];
    return ['openset.json', `cli[store=${c[1]}].cases[id=${c[2]}].${field}`, format];
  }
  const b = BACKBONE_FAMILY.exec(name);
  if (b) {
    const [field, format] = BACKBONE_FIELDS[b[1]];
    return ['backbone.json', `${field}.${BACKBONE_INPUTS[b[2]]}_t${b[3]}`, format];
  }
  const r = BACKBONE_RATE.exec(name);
  if (r) return ['backbone.json', `imagesPerSecond.${r[1]}`, 'int'];
  const l = LIVE_FAMILY.exec(name);
  if (l) {
    const [field, format] = LIVE_FIELDS[l[3]];
    return [
      'live.json',
      `results[backbone=${l[1] === 'glyph' ? 'engram-glyph' : 'mobilenetv2-12-int8'}].modes[mode=${l[2]}].${field}`,
      format,
    ];
  }
  const d = LIVE_DECODER.exec(name);
  if (d) return ['live.json', `decoder[input=${LIVE_INPUTS[d[1]]}].cpuMsPerFrame.${d[2]}`, 'num2'];
  const s = SHOTS_FAMILY.exec(name);
  if (s) return ['shots.json', `table.${s[1] ? 'engram-glyph' : 'mobilenetv2-12-int8'}.${s[2]}.${s[3]}.${s[4]}`, 'num1'];
  const m = RESULTS_FAMILY.exec(name);
  if (m) {
    const [, glyph, set, method, what] = m;
    const [field, format] = RESULTS_FIELDS[what];
    return [
      'results.json',
      `backbones.${glyph ? 'engram-glyph' : 'mobilenetv2-12-int8'}.${set}.results[name=${method}].split.${field}`,
      format,
    ];
  }
  return null;
}

/** Follows a path of keys, array indices and [field=value] selectors. */
export function lookup(obj, path) {
  let cur = obj;
  for (const part of path.split('.')) {
    const sel = /^([^[]*)\[(\w+)=([^\]]+)\]$/.exec(part);
    if (sel) {
      if (sel[1]) cur = cur?.[sel[1]];
      cur = Array.isArray(cur) ? cur.find((x) => String(x?.[sel[2]]) === sel[3]) : undefined;
    } else {
      cur = cur?.[part];
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** The text a figure should read, from the results under `resultsDir`. Throws naming what is missing. */
export function figureText(name, resultsDir, cache = new Map()) {
  const src = figureSource(name);
  if (!src) throw new Error(`unknown figure "${name}" (add it to FIGURES in tools/docs-numbers.mjs)`);
  const [file, path, format] = src;
  if (!cache.has(file)) {
    const p = join(resultsDir, file);
    if (!existsSync(p)) throw new Error(`figure "${name}": ${relative(ROOT, p)} does not exist (run the benchmark that writes it)`);
    cache.set(file, JSON.parse(readFileSync(p, 'utf8')));
  }
  const v = lookup(cache.get(file), path);
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`figure "${name}": ${file} has no number at ${path} (found ${JSON.stringify(v)})`);
  return FORMATS[format](v);
}

const MARKER = /<!-- n:([\w.-]+) -->(.*?)<!-- \/n -->/g;

/** Rewrites the marked figures of one Markdown text; returns the new text and what changed. */
export function rewrite(text, resultsDir, cache = new Map()) {
  const changes = [];
  const out = text.replace(MARKER, (_all, name, was) => {
    const now = figureText(name, resultsDir, cache);
    if (now !== was) changes.push({ name, was, now });
    return `<!-- n:${name} -->${now}<!-- /n -->`;
  });
  return { text: out, changes, markers: [...text.matchAll(MARKER)].length };
}

/** README.md, every docs/*.md and every model card (models/*.md) under `root`. */
export function markdownFiles(root = ROOT) {
  const under = (dir) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((f) => f.endsWith('.md'))
          .sort()
          .map((f) => join(root, dir, f))
      : [];
  return [join(root, 'README.md'), ...under('docs'), ...under('models')];
}

/** Checks (write = false) or rewrites every Markdown file; returns the differences found, file by file. */
export function run({ root = ROOT, resultsDir = join(root, 'bench', 'results'), write = false } = {}) {
  const cache = new Map();
  const report = [];
  for (const file of markdownFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const r = rewrite(text, resultsDir, cache);
    if (r.changes.length) report.push({ file: relative(root, file), changes: r.changes });
    if (write && r.text !== text) writeFileSync(file, r.text);
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  try {
    const report = run({ write: !check });
    for (const { file, changes } of report) {
      for (const c of changes) console.log(`${file}: ${c.name}: ${c.was} -> ${c.now}${check ? ' (differs)' : ''}`);
    }
    if (check && report.length) {
      console.error('docs quote figures that differ from bench/results: run "npm run docs:numbers"');
      process.exitCode = 1;
    } else if (!report.length) {
      console.log('every quoted figure matches bench/results');
    }
  } catch (err) {
    console.error(`docs-numbers: ${err.message}`);
    process.exitCode = 1;
  }
}
