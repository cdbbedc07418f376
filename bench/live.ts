// bench:live: frames per second and frame-to-answer latency of the live loop end to end (ffmpeg decode,
// backbone, memory, answer), against the bare backbone's images per second on the same frames in the same
// run. Target: the live loop keeps at least 90% of the bare backbone's rate.
//
// For each backbone (the embedded engram-glyph, and MobileNetV2 int8 where ../shared/models has it), on a
// 320x240 MJPEG video made by ffmpeg (its test pattern, moving, 30 frames per second), and for each of two
// decode sizes: "view" (320x240 RGB, what engram serve --watch decodes so the page can show it) and "learner"
// (the size the backbone needs, what engram watch decodes: learnerFrameSize), side by side in one run:
//  - decode: the video through FrameSource alone (ffmpeg and the pipe, no learner), frames per second;
//  - bare: engram.features() on the decoded frames, one at a time and in batches of READ_AHEAD (the most the
//    live loop predicts in one call): the backbone's images per second, resampling from the decoded size
//    included;
//  - predict: engram.predict() on the decoded frames, one at a time and in batches: backbone plus quantizer
//    and memory;
//  - live, as fast as possible: the video file through FrameSource and LiveLoop, predicting every frame
//    (a file waits for the learner, so nothing is dropped; the frames waiting are predicted together):
//    answers per second, latency percentiles, and the CPU time of this process per answered frame;
//  - live, camera pace (learner size): the same video delivered in real time (--realtime), as a 30 fps
//    camera: latency and dropped frames.
// Then the decoder's CPU per frame, with and without the options FrameSource now gives ffmpeg, for this video and
// for what a camera delivers: 640x480 MJPEG (a USB camera's usual mode) and raw 640x480 YUYV (its raw mode).
// Prints one JSON object as its last line and writes bench/results/live.json and bench/results/live.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Engram } from '../src/learner/engram.js';
import { FrameSource, ffmpegArgs, learnerFrameSize, READ_AHEAD, type Frame, type SourceOptions } from '../src/live/source.js';
import { LiveLoop, rawOf } from '../src/live/loop.js';
import { sharedModelsDir } from './lib/features.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 4 : 10;
const FPS = 30;
const ROUNDS = quick ? 1 : 3;
const RING = 8;
/** Frames per backbone call in the batched figures: the most the live loop predicts at once. */
const BATCH = READ_AHEAD;
const round = (x: number, d = 2) => Number(x.toFixed(d));

/** ffmpeg's test pattern, moving: MJPEG in AVI, or raw YUYV (as a camera's raw mode delivers it). */
function makeVideo(dir: string, name: string, width: number, height: number, seconds: number, codec: 'mjpeg' | 'yuyv'): string {
  const file = join(dir, name);
  const out = codec === 'mjpeg' ? ['-c:v', 'mjpeg', '-q:v', '4'] : ['-pix_fmt', 'yuyv422', '-f', 'rawvideo'];
  const input = `testsrc=s=${width}x${height}:r=${FPS}:d=${seconds}`;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', input, ...out, file]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString()} (apt-get install ffmpeg)`);
  return file;
}

type LoopLatency = Awaited<ReturnType<LiveLoop['run']>>['latencyMs'];
type Decode = Pick<SourceOptions, 'width' | 'height' | 'channels'>;

/** Decodes the video; keeps the first `keep` frames. */
async function decodeAll(video: string, size: Decode, keep: number): Promise<{ frames: Frame[]; count: number; fps: number }> {
  const src = new FrameSource({ input: video, ...size });
  const frames: Frame[] = [];
  let t0 = 0;
  let count = 0;
  for (let f = await src.take(); f; f = await src.take()) {
    if (t0 === 0) t0 = performance.now(); // from the first frame: ffmpeg's start is not frame rate
    if (frames.length < keep) frames.push(f);
    count++;
  }
  const fps = (count - 1) / ((performance.now() - t0) / 1000);
  await src.closed();
  return { frames, count, fps };
}

async function backboneOpen(name: string, store: string): Promise<Engram | null> {
  // MobileNetV2 ships no calibration sample for a pq codebook; top-k codes need none (speed is the point here).
  const quantizer = name === 'engram-glyph' ? undefined : { kind: 'topk' as const };
  try {
    return await Engram.open({ store, backbone: name, quantizer, onWarning: () => {} });
  } catch (err) {
    if (name !== 'mobilenetv2-12-int8') throw err;
    const shared = sharedModelsDir();
    if (!shared) return null;
    const { pullModel } = await import('../src/backbone/pull.js');
    await pullModel(name, { from: join(shared, 'mobilenetv2-12-int8.onnx') });
    return Engram.open({ store, backbone: name, quantizer, onWarning: () => {} });
  }
}

async function live(engram: Engram, video: string, size: Decode, realtime: boolean) {
  const source = new FrameSource({ input: video, realtime, ...size });
  const loop = new LiveLoop(engram, source);
  // This process's CPU per answered frame: predict plus the loop's own work (reading the pipe, the answers),
  // from the first answer on (starting ffmpeg and the backbone's first run are not per frame).
  let c0: NodeJS.CpuUsage | undefined;
  let answers = 0;
  loop.on('prediction', () => {
    if (answers++ === 0) c0 = process.cpuUsage();
  });
  const s = await loop.run();
  const c = process.cpuUsage(c0);
  await source.closed();
  const cpuMs = (c.user + c.system) / 1000 / Math.max(1, answers - 1);
  return { decoded: s.decoded, predicted: s.predicted, dropped: s.dropped, fps: s.fps, latencyMs: s.latencyMs, cpuMs };
}

/**
 * The live loop fed decoded frames from memory, with no decoder running: this process's CPU per answered frame
 * (from the first answer on). Against predict in batches it is the loop's own code; against the live run's
 * figure, what reading the pipe and sharing the cores with ffmpeg cost.
 */
async function loopFromMemory(engram: Engram, frames: Frame[]): Promise<number> {
  let next = 0;
  const [f0] = frames;
  const source = {
    width: f0.width,
    height: f0.height,
    channels: f0.channels,
    counters: { decoded: frames.length, taken: 0, dropped: 0 },
    latest: null,
    stop: () => {},
    takeMany: (max: number) => {
      const batch = frames.slice(next, next + max);
      next += batch.length;
      return Promise.resolve(batch);
    },
  };
  const loop = new LiveLoop(engram, source as unknown as FrameSource);
  let c0: NodeJS.CpuUsage | undefined;
  let answers = 0;
  loop.on('prediction', () => {
    if (answers++ === 0) c0 = process.cpuUsage();
  });
  await loop.run();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / Math.max(1, answers - 1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * CPU time ffmpeg spends per frame decoding the video to `size` (its own -benchmark figures: user + system),
 * in ms. Unlike frames per second on a shared machine, it does not depend on who else runs.
 */
function decoderCpuMs(video: string, size: Decode, frames: number, opts: { before?: boolean; raw?: string } = {}): number {
  let args = ffmpegArgs({ input: video, ...size }).map((a) => (a === 'error' ? 'info' : a));
  // The command line before the decoder options (one filter thread, luma only for grey frames).
  if (opts.before) args = args.filter((a, i, all) => !DECODER_FLAGS.has(a) && !DECODER_FLAGS.has(all[i - 1]));
  // Raw camera frames: the input's format and size are told, not probed.
  if (opts.raw)
    args.splice(args.indexOf('-i'), 0, '-f', 'rawvideo', '-pix_fmt', 'yuyv422', '-video_size', opts.raw, '-framerate', `${FPS}`);
  args.splice(args.length - 1, 1, '-benchmark', '-y', '/dev/null');
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  const m = /utime=([\d.]+)s stime=([\d.]+)s/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`ffmpeg -benchmark: ${r.stderr.slice(-500)}`);
  return ((Number(m[1]) + Number(m[2])) * 1000) / frames;
}

const DECODER_FLAGS = new Set(['-filter_threads', '-flags']);

/** CPU time this process spends per call of `run` (all its threads: the backbone's included), in ms. */
async function cpuMsPer(ring: Frame[], count: number, run: (f: Frame) => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < count; i++) await run(ring[i % ring.length]);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / count;
}

/**
 * Images per second of `run`, one frame at a time, after a warm-up: `count` calls over a ring of a few frames,
 * so that the measurement holds about as many frames in memory as the live loop does (300 frames of 230 KB held
 * at once slowed the bare backbone by half through garbage collection).
 */
async function perFrame(ring: Frame[], count: number, run: (f: Frame) => Promise<unknown>): Promise<number> {
  for (const f of ring) await run(f);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await run(ring[i % ring.length]);
  return count / ((performance.now() - t0) / 1000);
}

/** As perFrame, BATCH frames per call (the ring's frames): images per second. */
async function perBatch(ring: Frame[], count: number, run: (fs: Frame[]) => Promise<unknown>): Promise<number> {
  const batch = ring.slice(0, BATCH);
  await run(batch);
  const calls = Math.max(1, Math.round(count / BATCH));
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await run(batch);
  return (calls * BATCH) / ((performance.now() - t0) / 1000);
}

/** CPU time per frame of `run` on BATCH frames per call, in ms. */
async function cpuMsPerBatch(ring: Frame[], count: number, run: (fs: Frame[]) => Promise<unknown>): Promise<number> {
  const batch = ring.slice(0, BATCH);
  const calls = Math.max(1, Math.round(count / BATCH));
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await run(batch);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / (calls * BATCH);
}

async function measure(name: string, video: string, work: string) {
  const engram = await backboneOpen(name, join(work, `store-${name}`));
  if (!engram) return { backbone: name, skipped: 'mobilenetv2-12-int8.onnx not found in ENGRAM_SHARED_MODELS or ../shared/models' };
  try {
    const input = engram.input!;
    const sizes: [string, Decode][] = [
      ['view', { width: 320, height: 240, channels: 3 }],
      ['learner', learnerFrameSize(input)],
    ];
    const modes = [];
    for (const [mode, size] of sizes) {
      const { frames: ring, count } = await decodeAll(video, size, RING);
      // Something to answer with: two classes from the first and last frames.
      if (engram.stats().classes === 0) {
        await engram.learn('start', ring.slice(0, 4).map(rawOf));
        await engram.learn('end', ring.slice(4).map(rawOf));
      }
      // The machine is shared: each figure is measured in every round, back to back with the others, and the
      // medians are reported (the ratio is the median of each round's live / bare).
      type Round = {
        decode: number;
        bare: number;
        bareBatch: number;
        predict: number;
        predictBatch: number;
        live: number;
        ratio: number;
        ratioBatch: number;
        liveCpuMs: number;
        latency: LoopLatency;
      };
      const rounds: Round[] = [];
      const features = (fs: Frame[]) => engram.features(fs.map(rawOf));
      const predictAll = (fs: Frame[]) => engram.predict(fs.map(rawOf));
      for (let r = 0; r < ROUNDS; r++) {
        const decode = (await decodeAll(video, size, 0)).fps;
        const bare = await perFrame(ring, count, (f) => features([f]));
        const bareBatch = await perBatch(ring, count, features);
        const predict = await perFrame(ring, count, (f) => predictAll([f]));
        const predictBatch = await perBatch(ring, count, predictAll);
        const fast = await live(engram, video, size, false);
        rounds.push({
          decode,
          bare,
          bareBatch,
          predict,
          predictBatch,
          live: fast.fps,
          ratio: fast.fps / bare,
          ratioBatch: fast.fps / bareBatch,
          liveCpuMs: fast.cpuMs,
          latency: fast.latencyMs,
        });
      }
      // CPU per frame, which the load of the machine does not change much: decoding against the backbone.
      const decodeCpuMs = decoderCpuMs(video, size, count);
      const bareCpuMs = await cpuMsPer(ring, count, (f) => features([f]));
      const predictCpuMs = await cpuMsPer(ring, count, (f) => predictAll([f]));
      const bareBatchCpuMs = await cpuMsPerBatch(ring, count, features);
      const predictBatchCpuMs = await cpuMsPerBatch(ring, count, predictAll);
      const med = (k: Exclude<keyof Round, 'latency'>) => median(rounds.map((x) => x[k]));
      const camera = mode === 'learner' ? await live(engram, video, size, true) : null;
      // The loop's own code, at the learner size (300 frames of a few KB held at once).
      let fromMemoryCpuMs: number | null = null;
      if (mode === 'learner' && ring[0].data.length <= 100 * 100) {
        const frames = (await decodeAll(video, size, count)).frames;
        fromMemoryCpuMs = median([
          await loopFromMemory(engram, frames),
          await loopFromMemory(engram, frames),
          await loopFromMemory(engram, frames),
        ]);
      }
      modes.push({
        mode,
        decode: `${size.width}x${size.height}x${size.channels}`,
        frames: count,
        rounds: ROUNDS,
        batch: BATCH,
        decodeFps: round(med('decode')),
        bareFps: round(med('bare')),
        bareBatchFps: round(med('bareBatch')),
        predictFps: round(med('predict')),
        predictBatchFps: round(med('predictBatch')),
        liveFps: round(med('live')),
        // live / bare one frame at a time, and against the bare backbone in batches (its best rate, the target).
        ratio: round(med('ratio'), 3),
        ratioBatch: round(med('ratioBatch'), 3),
        cpuMsPerFrame: {
          decode: round(decodeCpuMs, 3),
          bare: round(bareCpuMs, 3),
          bareBatch: round(bareBatchCpuMs, 3),
          predict: round(predictCpuMs, 3),
          predictBatch: round(predictBatchCpuMs, 3),
          // This process during the live run (predict and the loop's own work; ffmpeg is counted in decode).
          live: round(med('liveCpuMs'), 3),
          // The live loop fed the decoded frames from memory (learner size, small frames only).
          ...(fromMemoryCpuMs === null ? {} : { loopFromMemory: round(fromMemoryCpuMs, 3) }),
        },
        // The best live / bare (in batches) the CPU costs allow: when every core is busy (decoder and learner
        // share them), and when the decoder has a core of its own (the slower of the two sets the pace); and the
        // same with the live loop's own CPU per frame in place of predict's (what the loop costs on top).
        cpuBound: {
          saturated: round(bareBatchCpuMs / (decodeCpuMs + predictBatchCpuMs), 3),
          decoderOwnCore: round(bareBatchCpuMs / Math.max(decodeCpuMs, predictBatchCpuMs), 3),
          loopSaturated: round(bareBatchCpuMs / (decodeCpuMs + med('liveCpuMs')), 3),
        },
        perRound: rounds.map((x) => ({
          decodeFps: round(x.decode),
          bareFps: round(x.bare),
          bareBatchFps: round(x.bareBatch),
          predictFps: round(x.predict),
          predictBatchFps: round(x.predictBatch),
          liveFps: x.live,
          ratio: round(x.ratio, 3),
          ratioBatch: round(x.ratioBatch, 3),
          liveCpuMs: round(x.liveCpuMs, 3),
        })),
        liveLatencyMs: rounds[rounds.length - 1].latency,
        ...(camera
          ? {
              camera: {
                fps: FPS,
                decoded: camera.decoded,
                predicted: camera.predicted,
                dropped: camera.dropped,
                latencyMs: camera.latencyMs,
              },
            }
          : {}),
      });
    }
    return { backbone: name, input: `${input.width}x${input.height}x${input.channels}`, modes };
  } finally {
    await engram.close();
  }
}

/**
 * The decoder's CPU per frame at engram-glyph's learner size (86x64 grey), before and after the decoder options
 * (one filter thread, luma only), for the bench's video and for what cameras deliver. Each is the least of 5
 * runs, before and after taken in turn: on a shared machine the least is the run others disturbed least.
 */
function decoderOptions(work: string) {
  const size = learnerFrameSize({ width: 32, height: 32, channels: 1 });
  const seconds = quick ? 4 : 30;
  const frames = seconds * FPS;
  const rawFrames = Math.min(frames, 150); // 600 KB a frame
  const inputs = [
    {
      input: 'mjpeg-320x240',
      what: "the bench's video (ffmpeg's test pattern, MJPEG quality 4)",
      file: makeVideo(work, 'long.avi', 320, 240, seconds, 'mjpeg'),
      frames,
    },
    {
      input: 'mjpeg-640x480',
      what: "a USB camera's MJPEG mode at 640x480",
      file: makeVideo(work, 'vga.avi', 640, 480, seconds, 'mjpeg'),
      frames,
    },
    {
      input: 'yuyv-640x480',
      what: "a camera's raw mode (YUYV 4:2:2) at 640x480: no decoding, a conversion and a scale",
      file: makeVideo(work, 'vga.yuyv', 640, 480, rawFrames / FPS, 'yuyv'),
      frames: rawFrames,
      raw: '640x480',
    },
  ];
  return inputs.map((x) => {
    let before = Infinity;
    let after = Infinity;
    for (let r = 0; r < 5; r++) {
      before = Math.min(before, decoderCpuMs(x.file, size, x.frames, { before: true, raw: x.raw }));
      after = Math.min(after, decoderCpuMs(x.file, size, x.frames, { raw: x.raw }));
    }
    rmSync(x.file, { force: true });
    return {
      input: x.input,
      what: x.what,
      decode: `${size.width}x${size.height}x${size.channels}`,
      frames: x.frames,
      cpuMsPerFrame: { before: round(before, 3), after: round(after, 3) },
    };
  });
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'engram-bench-live-'));
  process.env.ENGRAM_MODELS_DIR ??= join(REPO, 'bench', '.cache', 'models');
  try {
    const video = makeVideo(work, 'pattern.avi', 320, 240, SECONDS, 'mjpeg');
    const results = [];
    for (const name of ['engram-glyph', 'mobilenetv2-12-int8']) {
      const r = await measure(name, video, work);
      console.error(JSON.stringify(r));
      results.push(r);
    }
    const decoder = decoderOptions(work);
    console.error(JSON.stringify(decoder));
    const out = {
      bench: 'live',
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, loadavg1: round(loadavg()[0]) },
      video: { width: 320, height: 240, fps: FPS, seconds: SECONDS, codec: 'mjpeg' },
      target: 'liveFps >= 0.9 x bareBatchFps (the bare backbone at its best rate; ratio: against one frame at a time)',
      results,
      decoder,
    };
    if (!quick) {
      writeFileSync(join(REPO, 'bench', 'results', 'live.json'), `${JSON.stringify(out, null, 2)}\n`);
      writeFileSync(join(REPO, 'bench', 'results', 'live.md'), markdown(out));
    }
    console.log(JSON.stringify(out));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function markdown(out: {
  machine: { cpus: number; model: string; loadavg1: number };
  results: Record<string, any>[];
  decoder: ReturnType<typeof decoderOptions>;
}): string {
  const lines = [
    '<!-- generated by npm run bench:live (bench/live.ts); do not edit -->',
    `# Live loop: ${out.machine.cpus} cores, ${out.machine.model}`,
    '',
    `320x240 MJPEG video, 30 frames per second; a file's frames are predicted up to ${BATCH} at a time. Load average at the end of the run: ${out.machine.loadavg1} (the machine is shared; each figure is the median of ${out.results.find((r) => r.modes)?.modes[0].rounds ?? 1} rounds, measured back to back).`,
    'Decoded at the view size (320x240 RGB, as `engram serve --watch` decodes for the page) and at the learner size',
    "(what `engram watch` decodes: the backbone's need). decode: ffmpeg and the pipe alone; bare: the backbone on",
    'decoded frames; predict: backbone, quantizer and memory on decoded frames; live: all of it, end to end.',
    `"1 / ${BATCH}": one frame per call / ${BATCH} frames per call (the most the live loop predicts at once). live CPU: this`,
    'process during the live run, per answered frame (ffmpeg is in decode); in brackets, the live loop fed the same',
    'frames from memory, no decoder running.',
    '',
    `| backbone (input) | decoded at | decode alone, frames/s | bare backbone, frames/s (1 / ${BATCH}) | predict, frames/s (1 / ${BATCH}) | live loop, frames/s | live / bare (1 / ${BATCH}) | CPU ms per frame: decode / bare (1 / ${BATCH}) / predict (1 / ${BATCH}) / live | live / bare (${BATCH}) the CPU allows: all cores busy / decoder on its own core / all busy at the loop's CPU | latency p50 / p95 (ms) | at camera pace (30 fps): answered, dropped, latency p50 / p95 (ms) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of out.results) {
    if (r.skipped) {
      lines.push(`| ${r.backbone} | skipped: ${r.skipped} | | | | | | | | | |`);
      continue;
    }
    for (const m of r.modes) {
      const cm = m.camera;
      const cam = cm ? `${cm.predicted} of ${cm.decoded}, ${cm.dropped} dropped, ${cm.latencyMs.p50} / ${cm.latencyMs.p95}` : '';
      const c = m.cpuMsPerFrame;
      const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
      lines.push(
        `| ${r.backbone} (${r.input}) | ${m.mode} ${m.decode} | ${m.decodeFps} | ${m.bareFps} / ${m.bareBatchFps} | ${m.predictFps} / ${m.predictBatchFps} | ${m.liveFps} | ${(m.ratio * 100).toFixed(1)}% / ${(m.ratioBatch * 100).toFixed(1)}% | ${c.decode} / ${c.bare} / ${c.bareBatch} / ${c.predict} / ${c.predictBatch} / ${c.live}${c.loopFromMemory === undefined ? '' : ` (${c.loopFromMemory})`} | ${pct(m.cpuBound.saturated)} / ${pct(m.cpuBound.decoderOwnCore)} / ${pct(m.cpuBound.loopSaturated)} | ${m.liveLatencyMs.p50} / ${m.liveLatencyMs.p95} | ${cam} |`,
      );
    }
  }
  lines.push(
    '',
    "## The decoder's CPU per frame, before and after its options (one filter thread; luma only for grey frames)",
    '',
    '| input | decoded at | frames | CPU ms per frame before | after |',
    '|---|---|---|---|---|',
    ...out.decoder.map(
      (d) => `| ${d.input}: ${d.what} | ${d.decode} | ${d.frames} | ${d.cpuMsPerFrame.before} | ${d.cpuMsPerFrame.after} |`,
    ),
  );
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
