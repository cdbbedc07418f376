// The live loop's speed paths, on video made by ffmpeg and the embedded backbone: a file source hands the frames
// waiting together (takeMany) and the loop predicts them in one backbone call, with the same answers as one at a
// time, in frame order, never more than READ_AHEAD at once; a live source still holds only its newest frame;
// the decoder options (one filter thread, luma only for grey frames) give the same pixels as without them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engram } from '../src/learner/engram.js';
import { FrameSource, ffmpegArgs, READ_AHEAD, type Frame } from '../src/live/source.js';
import { LiveLoop, rawOf, type LivePrediction } from '../src/live/loop.js';
import { haveFfmpeg, sequenceVideo, shapeVideo } from './helpers/live-media.js';

const work = mkdtempSync(join(tmpdir(), 'engram-live-batch-'));
const ready = haveFfmpeg();
const grey = { width: 86, height: 64, channels: 1 as const };
let videos: Record<string, string> = {};

function before(): void {
  if (!ready || videos.both) return;
  videos = {
    hbar: shapeVideo(work, 'hbar', { seconds: 1 }),
    vbar: shapeVideo(work, 'vbar', { seconds: 1 }),
    // 2 s of hbar then 2 s of vbar at 10 fps: frames 0-19 hbar, 20-39 vbar.
    both: sequenceVideo(work, ['hbar', 'vbar'], 2, 10, 'both.avi'),
  };
}

async function allFrames(input: string): Promise<Frame[]> {
  const src = new FrameSource({ input, ...grey });
  const frames: Frame[] = [];
  for (let f = await src.take(); f; f = await src.take()) frames.push(f);
  return frames;
}

/** A learner that knows hbar and vbar, and a record of how many frames each predict call was given. */
async function learner(): Promise<{ engram: Engram; calls: number[] }> {
  const engram = await Engram.memory({ onWarning: () => {} });
  for (const label of ['hbar', 'vbar']) await engram.learn(label, (await allFrames(videos[label])).slice(0, 6).map(rawOf));
  const calls: number[] = [];
  const predict = engram.predict.bind(engram);
  // Slower than the decoder, so that frames wait while the learner works (as a large backbone would make them).
  engram.predict = async (inputs, opts) => {
    calls.push(inputs.length);
    await sleep(15);
    return predict(inputs, opts);
  };
  return { engram, calls };
}

async function answers(engram: Engram, batch: number, stopAfter?: number) {
  const source = new FrameSource({ input: videos.both, ...grey });
  const loop = new LiveLoop(engram, source, { batch });
  const out: LivePrediction[] = [];
  const stop = new AbortController();
  loop.on('prediction', (p: LivePrediction) => {
    out.push(p);
    if (stopAfter !== undefined && out.length >= stopAfter) stop.abort();
  });
  const summary = await loop.run(stop.signal);
  await source.closed();
  return { out, summary };
}

const Take = suite('FrameSource.takeMany');
Take.before(before);

Take('ffmpeg is installed (.ci/run installs it)', () => {
  assert.ok(ready, 'ffmpeg is not on the PATH: apt-get install ffmpeg');
});

Take('a file source hands over the frames waiting, oldest first, at most max, and loses none', async () => {
  const src = new FrameSource({ input: videos.both, ...grey });
  await sleep(400); // the decoder runs READ_AHEAD frames ahead, then waits
  const first = await src.takeMany(READ_AHEAD);
  assert.is(first.length, READ_AHEAD, 'a file decodes READ_AHEAD frames ahead of the consumer');
  const seen = first.map((f) => f.index);
  for (let b = await src.takeMany(3); b.length; b = await src.takeMany(3)) {
    assert.ok(b.length <= 3, `takeMany(3) gave ${b.length} frames`);
    seen.push(...b.map((f) => f.index));
  }
  assert.equal(
    seen,
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.equal(src.counters, { decoded: 40, taken: 40, dropped: 0 });
  assert.equal(await src.takeMany(READ_AHEAD), [], 'the end of the input is an empty array');
});

Take('a live source holds only its newest frame: what the consumer had no time for is dropped and counted', async () => {
  const src = new FrameSource({ input: videos.both, realtime: true, ...grey });
  await src.take();
  await sleep(600); // about 6 frames at 10 fps
  const frames = await src.takeMany(READ_AHEAD);
  assert.is(frames.length, 1);
  assert.ok(src.counters.dropped >= 3, `dropped ${src.counters.dropped}`);
  assert.is(frames[0].index, src.counters.decoded - 1, 'the newest frame');
  src.stop();
  await src.closed();
});

Take('takeMany refuses a max that is not a whole number >= 1', async () => {
  const src = new FrameSource({ input: videos.both, ...grey });
  assert.throws(() => src.takeMany(0), /max: expected a whole number >= 1, got 0/);
  assert.throws(() => src.takeMany(1.5), /max: expected a whole number >= 1, got 1.5/);
  src.stop();
  await src.closed();
});

const Batch = suite('LiveLoop: the frames waiting are predicted in one call');
Batch.before(before);

Batch('same answers as one frame at a time, every frame once, in order, at most READ_AHEAD per call', async () => {
  const { engram, calls } = await learner();
  try {
    const batched = await answers(engram, READ_AHEAD);
    const perCall = calls.splice(0);
    const single = await answers(engram, 1);
    assert.ok(Math.max(...perCall) > 1, `the slowed learner got batches (${perCall.join(',')})`);
    assert.ok(Math.max(...perCall) <= READ_AHEAD, `at most READ_AHEAD frames per call (${perCall.join(',')})`);
    assert.ok(
      calls.every((n) => n === 1),
      'batch 1: one frame per call',
    );
    assert.equal(
      batched.out.map((p) => p.frame),
      Array.from({ length: 40 }, (_, i) => i),
    );
    const answer = (p: LivePrediction) => ({ frame: p.frame, label: p.label, score: p.score, top: p.top });
    assert.equal(batched.out.map(answer), single.out.map(answer));
    assert.is(batched.summary.predicted, 40);
    assert.is(batched.summary.dropped, 0);
    assert.ok(batched.out.every((p) => p.latencyMs >= 0));
    // Latency stays bounded: a frame waits at most for the READ_AHEAD frames ahead of it and one call.
    assert.ok(batched.summary.latencyMs!.max < 5000, `latency max ${batched.summary.latencyMs!.max} ms`);
    const best = (p: LivePrediction) => p.top[0].label;
    const right = batched.out.filter((p) => best(p) === (p.frame < 20 ? 'hbar' : 'vbar')).length;
    assert.ok(right >= 36, `${right} of 40 frames named right`);
  } finally {
    await engram.close();
  }
});

Batch('stopping mid-batch answers no frame after the stop', async () => {
  const { engram, calls } = await learner();
  try {
    const { out, summary } = await answers(engram, READ_AHEAD, 3);
    assert.ok(Math.max(...calls) > 1, `batches formed (${calls.join(',')})`);
    assert.is(out.length, 3);
    assert.is(summary.predicted, 3);
  } finally {
    await engram.close();
  }
});

Batch('a batch size out of range is refused, naming it', async () => {
  const engram = await Engram.memory({ onWarning: () => {} });
  const src = new FrameSource({ input: videos.both, ...grey });
  try {
    assert.throws(() => new LiveLoop(engram, src, { batch: 0 }), /batch: expected a whole number from 1 to 8, got 0/);
    assert.throws(() => new LiveLoop(engram, src, { batch: READ_AHEAD + 1 }), /batch: expected a whole number from 1 to 8, got 9/);
  } finally {
    src.stop();
    await src.closed();
    await engram.close();
  }
});

const Decoder = suite('decoder options');
Decoder.before(before);

Decoder('one filter thread for frames up to 320x240, luma only for grey frames, both before the input', () => {
  const small = ffmpegArgs({ input: 'clip.mp4', ...grey });
  const at = (args: string[], flag: string) => args.indexOf(flag);
  assert.is(small[at(small, '-filter_threads') + 1], '1');
  assert.is(small[at(small, '-flags') + 1], 'gray');
  assert.ok(at(small, '-flags') < at(small, '-i'));
  const colour = ffmpegArgs({ input: 'clip.mp4', width: 320, height: 240, channels: 3 });
  assert.ok(at(colour, '-filter_threads') >= 0);
  assert.is(at(colour, '-flags'), -1, 'colour frames need every plane');
  const large = ffmpegArgs({ input: 'clip.mp4', width: 640, height: 480 });
  assert.is(at(large, '-filter_threads'), -1, 'large frames keep ffmpeg’s filter threads');
});

Decoder('the frames are the same pixels as ffmpeg gives without the options', async () => {
  const frames = await allFrames(videos.both);
  const args = ffmpegArgs({ input: videos.both, ...grey });
  const plain = args.filter((a, i) => !['-filter_threads', '-flags'].includes(a) && !['-filter_threads', '-flags'].includes(args[i - 1]));
  assert.is(plain.length, args.length - 4);
  const r = spawnSync('ffmpeg', plain, { maxBuffer: 64 * 1024 * 1024 });
  assert.is(r.status, 0, r.stderr?.toString());
  const frameBytes = grey.width * grey.height;
  assert.is(r.stdout.length, frames.length * frameBytes);
  frames.forEach((f, i) => assert.ok(Buffer.from(f.data).equals(r.stdout.subarray(i * frameBytes, (i + 1) * frameBytes)), `frame ${i}`));
});

Take.run();
Batch.run();
Decoder.run();
