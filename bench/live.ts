// bench:live: frames per second and frame-to-answer latency of the live loop end to end (ffmpeg decode,
// backbone, memory, answer), against the bare backbone's images per second on the same frames in the same
// run. Target: the live loop keeps at least 90% of the bare backbone's rate.
//
// For each backbone (the embedded engram-glyph, and MobileNetV2 int8 where ../shared/models has it):
//  - a 320x240 MJPEG video made by ffmpeg (its test pattern, moving), 30 frames per second;
//  - bare: engram.features() on the decoded frames, one at a time (the live loop's batch), images per second;
//  - live, as fast as possible: the video file through FrameSource and LiveLoop, predicting every frame
//    (a file waits for the learner, so nothing is dropped): answers per second and latency percentiles;
//  - live, camera pace: the same video delivered in real time (--realtime), as a 30 fps camera: latency and
//    dropped frames.
// Prints one JSON object as its last line and writes bench/results/live.json and bench/results/live.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Engram } from '../src/learner/engram.js';
import { FrameSource, type Frame } from '../src/live/source.js';
import { LiveLoop, rawOf } from '../src/live/loop.js';
import { sharedModelsDir } from './lib/features.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 4 : 10;
const FPS = 30;
const round = (x: number, d = 2) => Number(x.toFixed(d));

function makeVideo(dir: string): string {
  const file = join(dir, 'pattern.avi');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=s=320x240:r=${FPS}:d=${SECONDS}`, '-c:v', 'mjpeg', '-q:v', '4', file]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString()} (apt-get install ffmpeg)`);
  return file;
}

async function decodeAll(video: string): Promise<Frame[]> {
  const src = new FrameSource({ input: video });
  const frames: Frame[] = [];
  for (let f = await src.take(); f; f = await src.take()) frames.push(f);
  await src.closed();
  return frames;
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

async function live(engram: Engram, video: string, realtime: boolean) {
  const source = new FrameSource({ input: video, realtime });
  const loop = new LiveLoop(engram, source);
  const s = await loop.run();
  await source.closed();
  return { decoded: s.decoded, predicted: s.predicted, dropped: s.dropped, fps: s.fps, latencyMs: s.latencyMs };
}

async function measure(name: string, video: string, frames: Frame[], work: string) {
  const engram = await backboneOpen(name, join(work, `store-${name}`));
  if (!engram) return { backbone: name, skipped: 'mobilenetv2-12-int8.onnx not found in ENGRAM_SHARED_MODELS or ../shared/models' };
  try {
    // Something to answer with: two classes from the first and last frames.
    await engram.learn('start', frames.slice(0, 5).map(rawOf));
    await engram.learn('end', frames.slice(-5).map(rawOf));
    // Warm-up, then the bare backbone on the same frames, one at a time.
    for (const f of frames.slice(0, 10)) await engram.features([rawOf(f)]);
    const t0 = performance.now();
    for (const f of frames) await engram.features([rawOf(f)]);
    const bareFps = frames.length / ((performance.now() - t0) / 1000);
    const fast = await live(engram, video, false);
    const camera = await live(engram, video, true);
    return {
      backbone: name,
      frames: frames.length,
      bareFps: round(bareFps),
      liveFps: fast.fps,
      ratio: round(fast.fps / bareFps, 3),
      liveLatencyMs: fast.latencyMs,
      camera: { fps: FPS, decoded: camera.decoded, predicted: camera.predicted, dropped: camera.dropped, latencyMs: camera.latencyMs },
    };
  } finally {
    await engram.close();
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'engram-bench-live-'));
  process.env.ENGRAM_MODELS_DIR ??= join(REPO, 'bench', '.cache', 'models');
  try {
    const video = makeVideo(work);
    const frames = await decodeAll(video);
    const results = [];
    for (const name of ['engram-glyph', 'mobilenetv2-12-int8']) {
      const r = await measure(name, video, frames, work);
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
    `320x240 MJPEG video, 30 frames per second; one frame in the learner at a time. Load average at the end of the run: ${out.machine.loadavg1} (the machine is shared).`,
    '',
    '| backbone | bare backbone, frames/s | live loop, frames/s | live / bare | latency p50 / p95 (ms) | at camera pace (30 fps): answered, dropped, latency p50 / p95 (ms) |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of out.results) {
    if (r.skipped) {
      lines.push(`| ${r.backbone} | skipped: ${r.skipped} | | | | |`);
      continue;
    }
    const c = r.camera;
    lines.push(`| ${r.backbone} | ${r.bareFps} | ${r.liveFps} | ${(r.ratio * 100).toFixed(1)}% | ${r.liveLatencyMs.p50} / ${r.liveLatencyMs.p95} | ${c.predicted} of ${c.decoded}, ${c.dropped} dropped, ${c.latencyMs.p50} / ${c.latencyMs.p95} |`);
  }
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
