// bench:backbone: images per second for the MobileNetV2 int8 feature extractor at batch 1, 8 and 32 with
// 1 and 2 threads, and the share of per-image time spent outside the model (file read, decode, EXIF,
// resize, normalise, tensor and output copies), on the fast preprocessing path and, at batch 8, on the
// sharp-only path beside it. Prints a JSON object as its last line.
//
// Every figure comes from one run, measured side by side:
//  - embed(): what a caller gets; decoding of the next batch overlaps the model run on this one.
//  - sequential: prepare() then forward() back to back, each timed in wall-clock and in process CPU time;
//    outsideShare = prepare / (prepare + forward). CPU time is the steadier figure on a shared machine.
//    prepare() writes into tensors allocated once, as embed() reuses its batch tensors; prepare() into a new
//    tensor is timed beside it.
//  - pipelineOverhead = 1 - (model-only wall time) / (embed wall time): what preprocessing adds to a
//    caller's wall-clock time once it overlaps the model.
// Inputs: camera-like JPEG files at 640x480 (the full matrix) and, at batch 8, JPEG files at 320x240, 28x28
// grey PNG digits (MNIST test images, upscaled to 224) and raw 224x224 RGB frames (what a camera pipeline
// that already scales hands over: no decode at all).
// --mirror: only the fast path at batch 8, each input timed with and without mirror features (embed options
// .mirror: two model runs per image) in the same rounds; bench/results/backbone-mirror.json.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { Backbone } from '../src/backbone/backbone.js';
import { cutModel } from '../src/backbone/cut.js';
import type { ImageInput } from '../src/images/decode.js';
import { fastJpegAvailable, type Preprocess } from '../src/images/tensor.js';
import { imageAt, loadMnist } from '../src/datasets/idx.js';
import { describeMachine, machine, type Machine } from './lib/machine.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');
const IMAGES = quick ? 32 : 64;
const ROUNDS = quick ? 3 : 5;
const BATCHES = [1, 8, 32];
const THREADS = [1, 2];
const MIRROR = process.argv.includes('--mirror');
/** --md FILE: also write the tables as Markdown (bench/results/backbone.md, quoted by the docs). */
const MD = process.argv.includes('--md') ? process.argv[process.argv.indexOf('--md') + 1] : null;
if (process.argv.includes('--md') && (!MD || MD.startsWith('--'))) throw new Error('--md: expected a file name');

// Each round decodes the same files again; libvips' operation cache would serve repeats from memory,
// which a device streaming new camera frames never gets.
sharp.cache(false);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

function findClassifier(): string {
  const places = [process.env.ENGRAM_SHARED_MODELS, join(REPO, '..', 'shared', 'models')].filter((p): p is string => Boolean(p));
  for (const p of places) if (existsSync(join(p, 'mobilenetv2-12-int8.onnx'))) return join(p, 'mobilenetv2-12-int8.onnx');
  throw new Error(
    `mobilenetv2-12-int8.onnx not found (set ENGRAM_SHARED_MODELS; looked in ${places.join(', ')}); ` +
      'or "engram models pull mobilenetv2-12-int8" and point ENGRAM_SHARED_MODELS at the folder holding the .onnx',
  );
}

/** Camera-like JPEGs: crops of the two CC0 photos at varied positions and brightness, some mirrored. */
async function makeJpegs(dir: string, n: number, width: number, height: number): Promise<string[]> {
  const sources = [join(REPO, 'test', 'fixtures', 'images', 'chelsea.png'), join(REPO, 'test', 'fixtures', 'images', 'coffee.png')];
  const positions = ['centre', 'north', 'south', 'east', 'west', 'northeast', 'southwest'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const file = join(dir, `img${width}-${String(i).padStart(3, '0')}.jpg`);
    let img = sharp(sources[i % 2])
      .resize(width, height, { fit: 'cover', position: positions[i % positions.length] })
      .modulate({ brightness: 0.9 + (i % 5) * 0.05 });
    if (i % 3 === 0) img = img.flop();
    await img.jpeg({ quality: 88 }).toFile(file);
    out.push(file);
  }
  return out;
}

/** Handwritten digits as 28x28 grey PNG files (MNIST test images): the small images engram's demo learns. */
async function makeDigitPngs(dir: string, n: number): Promise<string[]> {
  const set = loadMnist('test');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const img = imageAt(set, i);
    const file = join(dir, `digit-${String(i).padStart(3, '0')}.png`);
    await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 1 } })
      .png()
      .toFile(file);
    out.push(file);
  }
  return out;
}

/** Raw 224x224 RGB frames made from the JPEGs (decoded once here, outside any timing). */
async function makeRawFrames(files: string[]): Promise<ImageInput[]> {
  return Promise.all(
    files.map(async (f) => {
      const { data } = await sharp(f).resize(224, 224, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data), width: 224, height: 224, channels: 3 as const };
    }),
  );
}

interface Row {
  input: string;
  /** 'fast': engram's decoders and resize pass where they apply; 'sharp': every image through sharp. */
  preprocess: Preprocess;
  threads: number;
  batch: number;
  imagesPerSecond: number;
  msPerImage: number;
  modelOnlyImagesPerSecond: number;
  pipelineOverhead: number;
  /** embed with mirror features (two model runs per image), timed in the same rounds (fast path, batch 8). */
  mirror?: { msPerImage: number; cost: number };
  sequential: {
    prepareMsPerImage: number;
    modelMsPerImage: number;
    outsideShare: number;
    prepareCpuMsPerImage: number;
    modelCpuMsPerImage: number;
    outsideShareCpu: number;
    /** prepare() into a new tensor per batch (CPU ms per image), timed in the same rounds. */
    prepareFreshCpuMsPerImage: number;
  };
}

async function measure(
  manifest: string,
  input: string,
  images: ImageInput[],
  threads: number,
  batch: number,
  preprocess: Preprocess,
): Promise<Row> {
  const b = await Backbone.open(manifest, { threads, preprocess });
  try {
    await b.embed(images.slice(0, Math.max(batch, 8)), { batchSize: batch }); // warm-up: the first run allocates
    const embedMs: number[] = [];
    const prepMs: number[] = [];
    const modelMs: number[] = [];
    const prepCpu: number[] = [];
    const modelCpu: number[] = [];
    const modelOnlyMs: number[] = [];
    // prepare() writes into tensors allocated (and paged in) once, as embed() reuses its two; a fresh tensor
    // per batch is timed beside it (prepareFreshCpuMsPerImage) for what the reuse saves.
    const { width, height, channels } = b.manifest.input;
    const tensorsIn = Array.from({ length: Math.ceil(images.length / batch) }, () =>
      new Float32Array(batch * width * height * channels).fill(0),
    );
    const prepFreshCpu: number[] = [];
    const mirrorMs: number[] = [];
    const timeMirror = MIRROR;
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      await b.embed(images, { batchSize: batch });
      embedMs.push(performance.now() - t0);
      if (timeMirror) {
        const m0 = performance.now();
        await b.embed(images, { batchSize: batch, mirror: true });
        mirrorMs.push(performance.now() - m0);
      }

      let prep = 0,
        model = 0,
        prepC = 0,
        modelC = 0,
        freshC = 0;
      const tensors: { data: Float32Array; count: number }[] = [];
      for (let s = 0; s < images.length; s += batch) {
        const chunk = images.slice(s, s + batch);
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        const data = await b.prepare(chunk, s, tensorsIn[s / batch]);
        const w1 = performance.now();
        const c1 = process.cpuUsage();
        await b.forward(data, chunk.length);
        const w2 = performance.now();
        const c2 = process.cpuUsage();
        await b.prepare(chunk, s);
        const c3 = process.cpuUsage();
        prep += w1 - w0;
        model += w2 - w1;
        prepC += cpuMs(c1) - cpuMs(c0);
        modelC += cpuMs(c2) - cpuMs(c1);
        freshC += cpuMs(c3) - cpuMs(c2);
        tensors.push({ data, count: chunk.length });
      }
      prepMs.push(prep);
      modelMs.push(model);
      prepCpu.push(prepC);
      modelCpu.push(modelC);
      prepFreshCpu.push(freshC);

      const t1 = performance.now();
      for (const t of tensors) await b.forward(t.data, t.count);
      modelOnlyMs.push(performance.now() - t1);
    }
    const n = images.length;
    const embed = median(embedMs);
    const modelOnly = median(modelOnlyMs);
    return {
      input,
      preprocess,
      threads,
      batch,
      imagesPerSecond: round((n * 1000) / embed, 1),
      msPerImage: round(embed / n),
      modelOnlyImagesPerSecond: round((n * 1000) / modelOnly, 1),
      pipelineOverhead: round(Math.max(0, median(embedMs.map((e, i) => 1 - modelOnlyMs[i] / e))), 4),
      ...(timeMirror
        ? { mirror: { msPerImage: round(median(mirrorMs) / n), cost: round(median(mirrorMs.map((m, i) => m / embedMs[i])), 3) } }
        : {}),
      sequential: {
        prepareMsPerImage: round(median(prepMs) / n),
        modelMsPerImage: round(median(modelMs) / n),
        outsideShare: round(median(prepMs.map((p, i) => p / (p + modelMs[i]))), 4),
        prepareCpuMsPerImage: round(median(prepCpu) / n),
        modelCpuMsPerImage: round(median(modelCpu) / n),
        outsideShareCpu: round(median(prepCpu.map((p, i) => p / (p + modelCpu[i]))), 4),
        prepareFreshCpuMsPerImage: round(median(prepFreshCpu) / n),
      },
    };
  } finally {
    await b.close();
  }
}

const INPUT_NAMES: Record<string, string> = {
  'png28x28-digits': 'PNG 28x28 digit',
  jpeg640x480: 'JPEG 640x480',
  jpeg320x240: 'JPEG 320x240',
  raw224x224: 'raw RGB 224x224',
};

/** The run as Markdown tables: every row, then the batch-8 shares against the 15% target. */
function markdown(m: Machine, rows: Row[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const out = [
    '# Backbone: images per second and the time outside the model',
    '',
    `\`npm run bench:backbone\` (${IMAGES} images, ${ROUNDS} rounds, medians), one run on ${describeMachine(m)}, load average ` +
      `${m.loadAverageAtStart} at the start. MobileNetV2 int8 cut at its 1280-d features. "prepare" is file read, ` +
      'decode, EXIF, resize and normalise into a tensor allocated once ("new tensor": into a fresh one each batch); ' +
      '"outside share" is prepare / (prepare + model) run back to back; "pipelined overhead" is 1 - model-only time / ' +
      'embed time. The fast path is engram\'s own decoders and resize pass; "sharp" sends every image through sharp.',
    '',
    '| input | path | threads | batch | img/s via embed | model alone img/s | prepare ms CPU/img | same, new tensor | model ms CPU/img | outside share (CPU) | outside share (wall) | pipelined overhead |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const order = Object.keys(INPUT_NAMES);
  const sorted = [...rows].sort((a, b) => order.indexOf(a.input) - order.indexOf(b.input) || a.threads - b.threads || a.batch - b.batch);
  for (const r of sorted) {
    const q = r.sequential;
    out.push(
      `| ${INPUT_NAMES[r.input]} | ${r.preprocess} | ${r.threads} | ${r.batch} | ${r.imagesPerSecond} | ${r.modelOnlyImagesPerSecond} | ` +
        `${q.prepareCpuMsPerImage.toFixed(2)} | ${q.prepareFreshCpuMsPerImage.toFixed(2)} | ${q.modelCpuMsPerImage.toFixed(2)} | ` +
        `${pct(q.outsideShareCpu)} | ${pct(q.outsideShare)} | ${pct(r.pipelineOverhead)} |`,
    );
  }
  out.push('', '## At batch 8: CPU time outside the model against the 15% target', '');
  out.push('| input | threads | prepare ms CPU/img | model ms CPU/img | outside share (CPU) | within 15% | sharp only (CPU) |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of sorted.filter((x) => x.batch === 8 && x.preprocess === 'fast')) {
    const s = rows.find((x) => x.input === r.input && x.threads === r.threads && x.batch === 8 && x.preprocess === 'sharp');
    const q = r.sequential;
    out.push(
      `| ${INPUT_NAMES[r.input]} | ${r.threads} | ${q.prepareCpuMsPerImage.toFixed(2)} | ${q.modelCpuMsPerImage.toFixed(2)} | ` +
        `${pct(q.outsideShareCpu)} | ${q.outsideShareCpu <= 0.15 ? 'yes' : 'no'} | ${s ? pct(s.sequential.outsideShareCpu) : '-'} |`,
    );
  }
  return out.join('\n') + '\n';
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'engram-bench-backbone-'));
  const host = machine();
  try {
    const cut = await cutModel(findClassifier(), {
      at: '464_quantized',
      out: join(work, 'mobilenetv2-int8-features.onnx'),
      name: 'mobilenetv2-int8-features',
      license: 'Apache-2.0',
    });
    const jpeg640 = await makeJpegs(work, IMAGES, 640, 480);
    const jpeg320 = await makeJpegs(work, IMAGES, 320, 240);
    const raw224 = await makeRawFrames(jpeg640);
    const digits = await makeDigitPngs(work, IMAGES);
    const plan: [string, ImageInput[], number[]][] = [
      ['png28x28-digits', digits, [8]],
      ['jpeg640x480', jpeg640, BATCHES],
      ['jpeg320x240', jpeg320, [8]],
      ['raw224x224', raw224, [8]],
    ];
    const rows: Row[] = [];
    for (const [input, images, batches] of plan) {
      for (const threads of THREADS) {
        for (const batch of MIRROR ? [8] : batches) {
          // The sharp-only path side by side at batch 8: what the fast path saves, measured in the same run.
          for (const preprocess of batch === 8 && !MIRROR ? (['fast', 'sharp'] as const) : (['fast'] as const)) {
            const row = await measure(cut.manifestPath, input, images, threads, batch, preprocess);
            rows.push(row);
            const q = row.sequential;
            process.stderr.write(
              `${input} ${preprocess} threads ${threads} batch ${String(batch).padStart(2)}: ${row.imagesPerSecond} img/s ` +
                `(model alone ${row.modelOnlyImagesPerSecond}); prepare ${q.prepareCpuMsPerImage} ms CPU (new tensor: ${q.prepareFreshCpuMsPerImage}) + model ${q.modelCpuMsPerImage} ms CPU per image; ` +
                `outside share ${(q.outsideShareCpu * 100).toFixed(1)}% CPU, ${(q.outsideShare * 100).toFixed(1)}% wall; pipelined overhead ${(row.pipelineOverhead * 100).toFixed(1)}%` +
                `${row.mirror ? `; --mirror ${row.mirror.msPerImage} ms per image (x${row.mirror.cost})` : ''}\n`,
            );
          }
        }
      }
    }
    const at8 = rows.filter((r) => r.batch === 8 && r.preprocess === 'fast');
    const sharp8 = rows.filter((r) => r.batch === 8 && r.preprocess === 'sharp');
    const key = (r: Row) => `${r.input}_t${r.threads}`;
    const result = {
      bench: MIRROR ? 'backbone-mirror' : 'backbone',
      model: 'mobilenetv2-12-int8 cut at 464_quantized (1280-d features)',
      images: IMAGES,
      rounds: ROUNDS,
      jpegDecoder: fastJpegAvailable() ? 'libjpeg (addon)' : 'sharp (addon built without libjpeg)',
      machine: host,
      imagesPerSecond: Object.fromEntries(
        rows
          .filter((r) => r.input === 'jpeg640x480' && r.preprocess === 'fast')
          .map((r) => [`t${r.threads}_b${r.batch}`, r.imagesPerSecond]),
      ),
      outsideShareCpuAtBatch8: Object.fromEntries(at8.map((r) => [key(r), r.sequential.outsideShareCpu])),
      outsideShareWallAtBatch8: Object.fromEntries(at8.map((r) => [key(r), r.sequential.outsideShare])),
      pipelineOverheadAtBatch8: Object.fromEntries(at8.map((r) => [key(r), r.pipelineOverhead])),
      // Mirror features against plain embeds, the same images in the same rounds: time with / time without.
      ...(MIRROR ? { mirrorCostAtBatch8: Object.fromEntries(at8.map((r) => [key(r), r.mirror!.cost])) } : {}),
      sharpOnlyAtBatch8: {
        outsideShareCpu: Object.fromEntries(sharp8.map((r) => [key(r), r.sequential.outsideShareCpu])),
        prepareCpuMsPerImage: Object.fromEntries(sharp8.map((r) => [key(r), r.sequential.prepareCpuMsPerImage])),
      },
      prepareCpuMsPerImageAtBatch8: Object.fromEntries(at8.map((r) => [key(r), r.sequential.prepareCpuMsPerImage])),
      prepareFreshTensorCpuMsPerImageAtBatch8: Object.fromEntries(at8.map((r) => [key(r), r.sequential.prepareFreshCpuMsPerImage])),
      modelCpuMsPerImageAtBatch8: Object.fromEntries(at8.map((r) => [key(r), r.sequential.modelCpuMsPerImage])),
      target: {
        outsideShareAtBatch8Max: 0.15,
        metCpu: Object.fromEntries(at8.map((r) => [key(r), r.sequential.outsideShareCpu <= 0.15])),
      },
      results: rows,
    };
    if (MD) writeFileSync(MD, markdown(result.machine, rows));
    console.log(JSON.stringify(result));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
