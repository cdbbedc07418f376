// bench:live: frames per second and frame-to-answer latency of the live loop end to end (ffmpeg decode,
// backbone, memory, answer), against the bare backbone's images per second on the same frames in the same
// run. Target: the live loop keeps at least 90% of the bare backbone's rate.
//
// For each backbone (the embedded engram-glyph, and MobileNetV2 int8 where ../shared/models has it), on a
// 320x240 MJPEG video made by ffmpeg (its test pattern, moving, 30 frames per second), and for each of two
// decode sizes: "view" (320x240 RGB, what engram serve --watch decodes so the page can show it) and "learner"
// (the size the backbone needs, what engram watch decodes: learnerFrameSize), side by side in one run:
//  - decode: the video through FrameSource alone (ffmpeg and the pipe, no learner), frames per second;
//  - bare: engram.features() on the decoded frames, one at a time (the live loop's batch): the backbone's
//    images per second, resampling from the decoded size included;
//  - predict: engram.predict() on the decoded frames, one at a time: backbone plus quantizer and memory;
//  - live, as fast as possible: the video file through FrameSource and LiveLoop, predicting every frame
//    (a file waits for the learner, so nothing is dropped): answers per second and latency percentiles;
//  - live, camera pace (learner size): the same video delivered in real time (--realtime), as a 30 fps
//    camera: latency and dropped frames.
// Prints one JSON object as its last line and writes bench/results/live.json and bench/results/live.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Engram } from '../src/learner/engram.js';
import { FrameSource, ffmpegArgs, learnerFrameSize, type Frame, type SourceOptions } from '../src/live/source.js';
import { LiveLoop, rawOf } from '../src/live/loop.js';
import { sharedModelsDir } from './lib/features.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 4 : 10;
const FPS = 30;
const ROUNDS = quick ? 1 : 3;
const RING = 8;
const round = (x: number, d = 2) => Number(x.toFixed(d));

function makeVideo(dir: string): string {
  const file = join(dir, 'pattern.avi');
  const r = spawnSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=s=320x240:r=${FPS}:d=${SECONDS}`,
    '-c:v',
    'mjpeg',
    '-q:v',
    '4',
    file,
  ]);
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
  const s = await loop.run();
  await source.closed();
  return { decoded: s.decoded, predicted: s.predicted, dropped: s.dropped, fps: s.fps, latencyMs: s.latencyMs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * CPU time ffmpeg spends per frame decoding the video to `size` (its own -benchmark figures: user + system),
 * in ms. Unlike frames per second on a shared machine, it does not depend on who else runs.
 */
function decoderCpuMs(video: string, size: Decode, frames: number): number {
  const args = ffmpegArgs({ input: video, ...size }).map((a) => (a === 'error' ? 'info' : a));
  args.splice(args.length - 1, 1, '-benchmark', '-y', '/dev/null');
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  const m = /utime=([\d.]+)s stime=([\d.]+)s/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`ffmpeg -benchmark: ${r.stderr.slice(-500)}`);
  return ((Number(m[1]) + Number(m[2])) * 1000) / frames;
}

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
      const rounds: { decode: number; bare: number; predict: number; live: number; ratio: number; latency: LoopLatency }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const decode = (await decodeAll(video, size, 0)).fps;
        const bare = await perFrame(ring, count, (f) => engram.features([rawOf(f)]));
        const predict = await perFrame(ring, count, (f) => engram.predict([rawOf(f)]));
        const fast = await live(engram, video, size, false);
        rounds.push({ decode, bare, predict, live: fast.fps, ratio: fast.fps / bare, latency: fast.latencyMs });
      }
      // CPU per frame, which the load of the machine does not change much: decoding against the backbone.
      const decodeCpuMs = decoderCpuMs(video, size, count);
      const bareCpuMs = await cpuMsPer(ring, count, (f) => engram.features([rawOf(f)]));
      const predictCpuMs = await cpuMsPer(ring, count, (f) => engram.predict([rawOf(f)]));
      const med = (k: 'decode' | 'bare' | 'predict' | 'live' | 'ratio') => median(rounds.map((x) => x[k]));
      const camera = mode === 'learner' ? await live(engram, video, size, true) : null;
      modes.push({
        mode,
        decode: `${size.width}x${size.height}x${size.channels}`,
        frames: count,
        rounds: ROUNDS,
        decodeFps: round(med('decode')),
        bareFps: round(med('bare')),
        predictFps: round(med('predict')),
        liveFps: round(med('live')),
        ratio: round(med('ratio'), 3),
        cpuMsPerFrame: { decode: round(decodeCpuMs, 3), bare: round(bareCpuMs, 3), predict: round(predictCpuMs, 3) },
        // The best live / bare the CPU costs allow: when every core is busy (decoder and learner share them), and
        // when the decoder has a core of its own (the slower of the two sets the pace).
        cpuBound: {
          saturated: round(bareCpuMs / (decodeCpuMs + predictCpuMs), 3),
          decoderOwnCore: round(bareCpuMs / Math.max(decodeCpuMs, predictCpuMs), 3),
        },
        perRound: rounds.map((x) => ({
          decodeFps: round(x.decode),
          bareFps: round(x.bare),
          predictFps: round(x.predict),
          liveFps: x.live,
          ratio: round(x.ratio, 3),
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

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'engram-bench-live-'));
  process.env.ENGRAM_MODELS_DIR ??= join(REPO, 'bench', '.cache', 'models');
  try {
    const video = makeVideo(work);
    const results = [];
    for (const name of ['engram-glyph', 'mobilenetv2-12-int8']) {
      const r = await measure(name, video, work);
      console.error(JSON.stringify(r));
      results.push(r);
    }
    const out = {
      bench: 'live',
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, loadavg1: round(loadavg()[0]) },
      video: { width: 320, height: 240, fps: FPS, seconds: SECONDS, codec: 'mjpeg' },
      target: 'liveFps >= 0.9 x bareFps',
      results,
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

function markdown(out: { machine: { cpus: number; model: string; loadavg1: number }; results: Record<string, any>[] }): string {
  const lines = [
    '<!-- generated by npm run bench:live (bench/live.ts); do not edit -->',
    `# Live loop: ${out.machine.cpus} cores, ${out.machine.model}`,
    '',
    `320x240 MJPEG video, 30 frames per second; one frame in the learner at a time. Load average at the end of the run: ${out.machine.loadavg1} (the machine is shared; each figure is the median of ${out.results.find((r) => r.modes)?.modes[0].rounds ?? 1} rounds, measured back to back).`,
    'Decoded at the view size (320x240 RGB, as `engram serve --watch` decodes for the page) and at the learner size',
    "(what `engram watch` decodes: the backbone's need). decode: ffmpeg and the pipe alone; bare: the backbone on",
    'decoded frames; predict: backbone, quantizer and memory on decoded frames; live: all of it, end to end.',
    '',
    '| backbone (input) | decoded at | decode alone, frames/s | bare backbone, frames/s | predict, frames/s | live loop, frames/s | live / bare | CPU ms per frame: decode / bare / predict | live / bare the CPU allows: all cores busy / decoder on its own core | latency p50 / p95 (ms) | at camera pace (30 fps): answered, dropped, latency p50 / p95 (ms) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of out.results) {
    if (r.skipped) {
      lines.push(`| ${r.backbone} | skipped: ${r.skipped} | | | | | | | | | |`);
      continue;
    }
    for (const m of r.modes) {
      const c = m.camera;
      const cam = c ? `${c.predicted} of ${c.decoded}, ${c.dropped} dropped, ${c.latencyMs.p50} / ${c.latencyMs.p95}` : '';
      lines.push(
        `| ${r.backbone} (${r.input}) | ${m.mode} ${m.decode} | ${m.decodeFps} | ${m.bareFps} | ${m.predictFps} | ${m.liveFps} | ${(m.ratio * 100).toFixed(1)}% | ${m.cpuMsPerFrame.decode} / ${m.cpuMsPerFrame.bare} / ${m.cpuMsPerFrame.predict} | ${(m.cpuBound.saturated * 100).toFixed(0)}% / ${(m.cpuBound.decoderOwnCore * 100).toFixed(0)}% | ${m.liveLatencyMs.p50} / ${m.liveLatencyMs.p95} | ${cam} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
