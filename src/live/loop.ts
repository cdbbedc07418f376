// The live loop: takes frames from a source and, for each, either predicts it or learns it as an example of a
// label being captured. A live source drops what arrives while the learner is busy (see source.ts), so the
// answer always concerns a recent frame and nothing queues without bound. A file read as fast as possible
// decodes a few frames ahead; the frames waiting when the learner is free are predicted in one backbone call
// (a small backbone costs less per frame in a batch: docs/live.md, speed).
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Engram, Prediction } from '../learner/engram.js';
import { READ_AHEAD, type Frame, type FrameSource } from './source.js';

export interface LivePrediction {
  frame: number;
  /** Seconds from the start of the source. */
  time: number;
  label: string | null;
  score: number;
  margin: number;
  top: { label: string; score: number }[];
  /** From the frame leaving the decoder to the answer, in ms. */
  latencyMs: number;
  /** Frames dropped so far because the learner was busy. */
  dropped: number;
}

export interface LiveLearned {
  frame: number;
  time: number;
  label: string;
  /** Which of the capture's frames this is (1-based) and how many it takes. */
  example: number;
  of: number;
  /** Frame to durable acknowledgement, in ms. */
  latencyMs: number;
}

export interface CaptureRequest {
  label: string;
  /** Examples to capture (1..1000). */
  frames: number;
  /** Take one frame in `every` (default 1: consecutive frames). */
  every?: number;
}

export interface CaptureResult {
  label: string;
  stored: number;
  frames: number[];
}

export interface LoopOptions {
  /** Predict one frame in `every` (default 1). */
  every?: number;
  /** Classes listed per prediction (default 3). */
  top?: number;
  /** Predict the frames that no capture takes (default true). */
  predict?: boolean;
  /** Most frames predicted in one backbone call when several are waiting (1..8, default 8; 1: one at a time). */
  batch?: number;
}

export interface LoopSummary {
  decoded: number;
  predicted: number;
  learned: number;
  dropped: number;
  seconds: number;
  /** Frames answered (predicted or learned) per second of wall-clock time. */
  fps: number;
  latencyMs: { p50: number; p95: number; max: number } | null;
}

/** Most frames a capture holds before learning them (a bound on the memory a long capture takes). */
const CHUNK = 16;

interface PendingCapture extends Required<CaptureRequest> {
  taken: number[];
  chunk: Frame[];
  last: number;
  resolve: (r: CaptureResult) => void;
  reject: (e: Error) => void;
}

export class LiveLoop extends EventEmitter {
  private readonly every: number;
  private readonly top: number;
  private readonly predictFrames: boolean;
  private readonly batch: number;
  private aborted = false;
  private captures: PendingCapture[] = [];
  private lastPredicted = -Infinity;
  private latencies: number[] = [];
  private predicted = 0;
  private learned = 0;
  private running = false;
  /** The newest prediction, for clients that join late. */
  last: LivePrediction | null = null;

  constructor(
    private readonly engram: Engram,
    readonly source: FrameSource,
    opts: LoopOptions = {},
  ) {
    super();
    this.every = opts.every ?? 1;
    this.top = opts.top ?? 3;
    this.predictFrames = opts.predict ?? true;
    this.batch = opts.batch ?? READ_AHEAD;
    if (!Number.isInteger(this.every) || this.every < 1) throw new RangeError(`every: expected a whole number >= 1, got ${this.every}`);
    if (!Number.isInteger(this.top) || this.top < 1) throw new RangeError(`top: expected a whole number >= 1, got ${this.top}`);
    if (!Number.isInteger(this.batch) || this.batch < 1 || this.batch > READ_AHEAD)
      throw new RangeError(`batch: expected a whole number from 1 to ${READ_AHEAD}, got ${this.batch}`);
  }

  /** Learns the next `frames` frames (one in `every`) as `label`; resolves once every one is durable. */
  capture(req: CaptureRequest): Promise<CaptureResult> {
    const label = req.label;
    if (typeof label !== 'string' || label.length === 0 || label.length > 1024)
      throw new RangeError(`label: expected a non-empty string of at most 1024 characters, got ${JSON.stringify(label)}`);
    const frames = req.frames;
    if (!Number.isInteger(frames) || frames < 1 || frames > 1000)
      throw new RangeError(`frames: expected a whole number from 1 to 1000, got ${String(frames)}`);
    const every = req.every ?? 1;
    if (!Number.isInteger(every) || every < 1 || every > 10_000)
      throw new RangeError(`every: expected a whole number from 1 to 10000, got ${String(every)}`);
    if (!this.running) throw new Error('capture: the live source is not running');
    return new Promise((resolve, reject) =>
      this.captures.push({ label, frames, every, taken: [], chunk: [], last: -Infinity, resolve, reject }),
    );
  }

  /** Runs until the source ends or `signal` aborts; a learner or decoder failure rejects. */
  async run(signal?: AbortSignal): Promise<LoopSummary> {
    // Timed from the first frame: starting the decoder and the backbone's first run are not frame rate.
    let t0 = 0;
    const onAbort = () => {
      this.aborted = true;
      this.source.stop();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.running = true;
    try {
      // The backbone's first run allocates its session; do it before the first frame so its latency is honest.
      await this.engram.predict([
        {
          data: new Uint8Array(this.source.width * this.source.height * this.source.channels),
          width: this.source.width,
          height: this.source.height,
          channels: this.source.channels,
        },
      ]);
      for (;;) {
        const frames = await this.source.takeMany(this.batch);
        if (frames.length === 0) break;
        if (t0 === 0) t0 = performance.now();
        const predict: Frame[] = [];
        for (const frame of frames) {
          const cap = this.captures[0];
          if (cap && frame.index - cap.last >= cap.every) {
            // Answers stay in frame order: the frames before this one are predicted first.
            if (predict.length) await this.predictBatch(predict.splice(0));
            await this.learnFrame(cap, frame);
            continue;
          }
          if (cap || !this.predictFrames || frame.index - this.lastPredicted < this.every) continue;
          this.lastPredicted = frame.index;
          predict.push(frame);
        }
        if (predict.length) await this.predictBatch(predict);
      }
      // The source ended: what a capture took so far is still learned (and acknowledged) before it fails.
      const cap = this.captures[0];
      if (cap && cap.chunk.length) await this.learnChunk(cap);
    } finally {
      this.running = false;
      signal?.removeEventListener('abort', onAbort);
      this.source.stop();
      for (const c of this.captures.splice(0))
        c.reject(new Error(`capture of ${c.label}: the live source ended after ${c.taken.length} of ${c.frames} frames`));
    }
    const seconds = t0 === 0 ? 0 : (performance.now() - t0) / 1000;
    const answered = this.predicted + this.learned;
    return {
      decoded: this.source.counters.decoded,
      predicted: this.predicted,
      learned: this.learned,
      dropped: this.source.counters.dropped,
      seconds: round(seconds, 3),
      fps: round(seconds > 0 ? answered / seconds : 0, 2),
      latencyMs: percentiles(this.latencies),
    };
  }

  private async predictBatch(frames: Frame[]): Promise<void> {
    const ps = await this.engram.predict(frames.map(rawOf), { top: this.top });
    const now = performance.now();
    for (let i = 0; i < frames.length; i++) {
      // Stopped (--max-frames reached, interrupted): the rest of the batch is not answered.
      if (this.aborted) return;
      const latencyMs = now - frames[i].arrived;
      this.note(latencyMs);
      this.predicted++;
      this.last = livePrediction(frames[i], ps[i], latencyMs, this.source.counters.dropped);
      this.emit('prediction', this.last);
    }
  }

  private async learnFrame(cap: PendingCapture, frame: Frame): Promise<void> {
    cap.last = frame.index;
    cap.chunk.push(frame);
    // Frames of one capture are learned together (up to CHUNK at a time): the examples of a new label then
    // also calibrate "unknown" against the classes already stored (see learner/openset.ts).
    if (cap.chunk.length < CHUNK && cap.taken.length + cap.chunk.length < cap.frames) return;
    await this.learnChunk(cap);
  }

  private async learnChunk(cap: PendingCapture): Promise<void> {
    const chunk = cap.chunk.splice(0);
    try {
      const r = await this.engram.learn(cap.label, chunk.map(rawOf));
      await this.engram.whenDurable(r.seq);
    } catch (err) {
      this.captures.shift();
      cap.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const now = performance.now();
    for (const f of chunk) {
      const latencyMs = now - f.arrived;
      this.note(latencyMs);
      this.learned++;
      cap.taken.push(f.index);
      const ev: LiveLearned = {
        frame: f.index,
        time: round(f.time, 3),
        label: cap.label,
        example: cap.taken.length,
        of: cap.frames,
        latencyMs: round(latencyMs, 1),
      };
      this.emit('learned', ev);
    }
    if (cap.taken.length === cap.frames) {
      this.captures.shift();
      cap.resolve({ label: cap.label, stored: cap.taken.length, frames: cap.taken });
    }
  }

  private note(ms: number): void {
    // A bounded sample: the newest 10,000 latencies are enough for the percentiles of a long run.
    if (this.latencies.length >= 10_000) this.latencies.shift();
    this.latencies.push(ms);
  }
}

export function rawOf(frame: Frame): { data: Uint8Array; width: number; height: number; channels: 1 | 3 } {
  return { data: frame.data, width: frame.width, height: frame.height, channels: frame.channels };
}

function livePrediction(frame: Frame, p: Prediction, latencyMs: number, dropped: number): LivePrediction {
  return {
    frame: frame.index,
    time: round(frame.time, 3),
    label: p.label,
    score: round(p.score, 4),
    margin: round(p.margin, 4),
    top: p.top.map((t) => ({ label: t.label, score: round(t.score, 4) })),
    latencyMs: round(latencyMs, 1),
    dropped,
  };
}

function percentiles(xs: number[]): LoopSummary['latencyMs'] {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))], 1);
  return { p50: at(0.5), p95: at(0.95), max: round(s[s.length - 1], 1) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
