// Live frames from a camera, a stream, a video file or stdin, decoded by Debian's ffmpeg run as a child
// process into raw frames of one fixed size. The consumer takes frames one at a time; a live source never
// waits for it: a frame not taken before the next arrives is dropped and counted (back pressure without a
// queue). A video file read faster than real time instead waits for the consumer, so no frame is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';

export type SourceKind = 'camera' | 'stream' | 'file' | 'stdin';

/** How frames arrive on stdin: MJPEG (concatenated JPEGs) or raw pixels of --input-size. */
export type StdinFormat = 'mjpeg' | 'gray' | 'rgb24';

export interface Crop {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SourceOptions {
  /** /dev/videoN, rtsp://, http(s)://, a video file, or "-" for stdin. */
  input: string;
  /** Output frame size: the input is scaled to fit (aspect kept, padded with black). Default 320x240. */
  width?: number;
  height?: number;
  /** One channel (grey) or three (RGB, default). */
  channels?: 1 | 3;
  /** Frames per second taken from the input (ffmpeg's fps filter); default: the input's own rate. */
  fps?: number;
  /** Region of interest in input pixels, cut before scaling. */
  crop?: Crop;
  /** A video file is read at its own frame rate, as a camera would deliver it (frames can then be dropped). */
  realtime?: boolean;
  /** A video file starts again at its end, until stopped. */
  loop?: boolean;
  /** stdin: the frame format (default mjpeg); raw formats need stdinSize. */
  stdinFormat?: StdinFormat;
  stdinSize?: { width: number; height: number };
  /** stdin: where the frames come from (default process.stdin). */
  stdin?: Readable;
  /** The ffmpeg binary (default $ENGRAM_FFMPEG or "ffmpeg" on the PATH). */
  ffmpeg?: string;
}

export interface Frame {
  /** Position in the decoded sequence (0-based); a gap means dropped frames. */
  index: number;
  /** Seconds from the start of the source: index / fps when the rate is set, else arrival time. */
  time: number;
  /** performance.now() when the frame was fully read from the decoder. */
  arrived: number;
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface SourceCounters {
  decoded: number;
  taken: number;
  dropped: number;
}

export const DEFAULT_WIDTH = 320;
export const DEFAULT_HEIGHT = 240;
/** Frames a file source decodes ahead of the consumer, and so the most one takeMany() returns. */
export const READ_AHEAD = 8;

/**
 * The frame size a learner needs, when nobody looks at the frames: the smallest even 4:3 box that covers twice
 * the backbone's input (so the backbone's own resampling still averages over several pixels), at most the
 * default 320x240, with the backbone's channels. ffmpeg then scales in C and the pipe carries a few KB a frame
 * instead of 230 KB (docs/live.md, speed).
 */
export function learnerFrameSize(input: { width: number; height: number; channels: 1 | 3 }): {
  width: number;
  height: number;
  channels: 1 | 3;
} {
  const even = (x: number) => 2 * Math.ceil(x / 2);
  let height = Math.max(8, even(Math.max(2 * input.height, (2 * input.width * 3) / 4)));
  let width = Math.max(8, even((height * 4) / 3));
  if (width > DEFAULT_WIDTH || height > DEFAULT_HEIGHT) [width, height] = [DEFAULT_WIDTH, DEFAULT_HEIGHT];
  return { width, height, channels: input.channels };
}

/** What kind of input a name is. */
export function sourceKind(input: string): SourceKind {
  if (input === '-') return 'stdin';
  if (/^\/dev\/video\d+$/.test(input)) return 'camera';
  if (/^(rtsp|rtsps|rtmp|http|https|udp|tcp):\/\//i.test(input)) return 'stream';
  return 'file';
}

/** The ffmpeg command line for these options (exported for tests and --help text). */
export function ffmpegArgs(o: SourceOptions): string[] {
  const kind = sourceKind(o.input);
  const width = o.width ?? DEFAULT_WIDTH;
  const height = o.height ?? DEFAULT_HEIGHT;
  const args = ['-hide_banner', '-loglevel', 'error'];
  if (kind !== 'stdin') args.push('-nostdin');
  // Frames at most the default size are cheap to crop and scale: one filter thread costs less CPU than
  // handing each small frame between several (measured in bench/live.ts, decoder options).
  if (width * height <= DEFAULT_WIDTH * DEFAULT_HEIGHT) args.push('-filter_threads', '1');
  // Grey frames need only the luma plane: decoders that can (MJPEG) skip the colour planes. Same pixels out.
  if (o.channels === 1) args.push('-flags', 'gray');
  switch (kind) {
    case 'camera':
      args.push('-f', 'v4l2', '-i', o.input);
      break;
    case 'stream':
      if (/^rtsps?:/i.test(o.input)) args.push('-rtsp_transport', 'tcp');
      args.push('-i', o.input);
      break;
    case 'file':
      if (o.realtime) args.push('-re');
      if (o.loop) args.push('-stream_loop', '-1');
      args.push('-i', o.input);
      break;
    case 'stdin': {
      const fmt = o.stdinFormat ?? 'mjpeg';
      // Frames are passed on as they come: no probing ahead (seconds of a slow camera) before the first one.
      // (-fflags nobuffer would lose the first frame.)
      args.push('-probesize', '32', '-analyzeduration', '0');
      if (fmt === 'mjpeg') args.push('-f', 'mjpeg');
      else args.push('-f', 'rawvideo', '-pix_fmt', fmt, '-video_size', `${o.stdinSize!.width}x${o.stdinSize!.height}`);
      args.push('-i', 'pipe:0');
      break;
    }
  }
  const filters: string[] = [];
  if (o.crop) filters.push(`crop=${o.crop.width}:${o.crop.height}:${o.crop.x}:${o.crop.y}`);
  if (o.fps) filters.push(`fps=${o.fps}`);
  filters.push(`scale=${width}:${height}:force_original_aspect_ratio=decrease`, `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`);
  args.push('-an', '-vf', filters.join(','), '-pix_fmt', o.channels === 1 ? 'gray' : 'rgb24', '-f', 'rawvideo', 'pipe:1');
  return args;
}

/**
 * A running ffmpeg decoding one input into frames. `take()` resolves with the next frame, or null once the
 * input ends (or `stop()` was called); a decoder failure rejects it with ffmpeg's own message.
 */
export class FrameSource {
  readonly kind: SourceKind;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly fps: number | undefined;
  /** Whether frames are dropped when the consumer is slower (every source but a file read as fast as possible). */
  readonly drops: boolean;
  readonly counters: SourceCounters = { decoded: 0, taken: 0, dropped: 0 };
  private readonly proc: ChildProcess;
  private readonly frameBytes: number;
  private readonly start = performance.now();
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Decoded frames not yet taken: at most one for a live source, READ_AHEAD for a file. */
  private pending: Frame[] = [];
  /** A takeMany() waiting for the next frames. */
  private waiter: { max: number; want: number; resolve: (frames: Frame[]) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private ended = false;
  private stopped = false;
  private stderr = '';
  /** The newest decoded frame, whether or not it was taken (for a live view). */
  latest: Frame | null = null;

  constructor(opts: SourceOptions) {
    this.kind = sourceKind(opts.input);
    checkOptions(opts, this.kind);
    this.width = opts.width ?? DEFAULT_WIDTH;
    this.height = opts.height ?? DEFAULT_HEIGHT;
    this.channels = opts.channels ?? 3;
    this.fps = opts.fps;
    this.drops = this.kind !== 'file' || Boolean(opts.realtime);
    this.frameBytes = this.width * this.height * this.channels;
    const bin = opts.ffmpeg ?? process.env.ENGRAM_FFMPEG ?? 'ffmpeg';
    this.proc = spawn(bin, ffmpegArgs(opts), { stdio: [this.kind === 'stdin' ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    this.proc.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(
        err.code === 'ENOENT' ? new Error(`ffmpeg not found (${bin}): install it (apt-get install ffmpeg) or set ENGRAM_FFMPEG`) : err,
      );
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-4000);
    });
    this.proc.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.proc.on('close', (code, signal) => {
      if (!this.stopped && code !== 0 && !this.failure) {
        const msg = this.stderr.trim().split('\n').slice(-3).join('; ') || `exited with ${code ?? signal}`;
        this.fail(new Error(`ffmpeg could not read ${opts.input}: ${msg}`));
        return;
      }
      this.ended = true;
      if (this.waiter) this.hand(this.pending.splice(0, this.waiter.max));
    });
    if (this.kind === 'stdin') {
      const stdin = this.proc.stdin!;
      stdin.on('error', () => {}); // ffmpeg gone: its exit says why
      const from = opts.stdin ?? process.stdin;
      from.pipe(stdin);
    }
  }

  /** The next frame, null at the end of the input. */
  async take(): Promise<Frame | null> {
    const [f] = await this.takeMany(1);
    return f ?? null;
  }

  /**
   * Frames decoded and not yet taken, oldest first. A live source holds only its newest frame: that one, as
   * soon as there is one. A file hands over full batches of min(max, READ_AHEAD) frames (it decodes no further
   * ahead), fewer only at the end of the input: a consumer that is faster than the decoder then still works on
   * several frames per call, which costs less per frame, and a frame waits at most for the batch's others to
   * be decoded. An empty array at the end of the input.
   */
  takeMany(max: number): Promise<Frame[]> {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max: expected a whole number >= 1, got ${max}`);
    if (this.failure) return Promise.reject(this.failure);
    const want = this.drops ? 1 : Math.min(max, READ_AHEAD);
    const over = this.ended || this.stopped;
    if (this.pending.length >= want || (over && this.pending.length)) {
      const frames = this.pending.splice(0, max);
      this.counters.taken += frames.length;
      if (!this.drops && this.pending.length < READ_AHEAD) this.proc.stdout!.resume();
      return Promise.resolve(frames);
    }
    if (over) return Promise.resolve([]);
    return new Promise<Frame[]>((resolve, reject) => {
      this.waiter = { max, want, resolve, reject };
    });
  }

  /** Resolves a waiting takeMany() with `frames`. */
  private hand(frames: Frame[]): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    this.counters.taken += frames.length;
    w.resolve(frames);
  }

  /** Ends the decoder; a pending take() resolves with null (takeMany() with no frames). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.proc.stdout!.resume();
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
    this.hand([]);
  }

  /** Resolves when ffmpeg has exited. */
  closed(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((done) => this.proc.once('close', () => done()));
  }

  private onData(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const need = this.frameBytes - this.partialBytes;
      const piece = chunk.subarray(off, off + need);
      this.partial.push(piece);
      this.partialBytes += piece.length;
      off += piece.length;
      if (this.partialBytes === this.frameBytes) {
        // A chunk from the pipe is a fresh buffer nobody else writes to: a frame in one chunk is a view of it,
        // a frame over several is their concatenation (one copy, not two).
        const piece0 = this.partial[0];
        const data: Uint8Array = this.partial.length === 1 ? piece0 : Buffer.concat(this.partial, this.frameBytes);
        this.partial = [];
        this.partialBytes = 0;
        this.onFrame(data);
      }
    }
    // A waiting file consumer gets its batch once it is complete (see takeMany).
    if (this.waiter && this.pending.length >= this.waiter.want) {
      this.hand(this.pending.splice(0, this.waiter.max));
      if (!this.drops && this.pending.length < READ_AHEAD) this.proc.stdout!.resume();
    }
  }

  private onFrame(data: Uint8Array): void {
    const arrived = performance.now();
    const index = this.counters.decoded++;
    const time = this.fps ? index / this.fps : (arrived - this.start) / 1000;
    const frame: Frame = { index, time, arrived, data, width: this.width, height: this.height, channels: this.channels };
    this.latest = frame;
    if (this.stopped) return;
    if (this.drops) {
      if (this.waiter) return this.hand([frame]);
      if (this.pending.length) this.counters.dropped++;
      this.pending = [frame];
      return;
    }
    // A file read as fast as possible waits for the consumer instead of dropping (ffmpeg blocks on the pipe),
    // a few frames ahead, so decoding the next frames overlaps the learner's work on this one.
    this.pending.push(frame);
    if (this.pending.length >= READ_AHEAD) this.proc.stdout!.pause();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }
}

function checkOptions(o: SourceOptions, kind: SourceKind): void {
  const dim = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 8 || v > 4096 || v % 2 !== 0)) {
      throw new RangeError(`${name}: expected an even whole number of pixels from 8 to 4096, got ${v}`);
    }
  };
  dim('width', o.width);
  dim('height', o.height);
  if (o.fps !== undefined && !(o.fps > 0 && o.fps <= 1000))
    throw new RangeError(`fps: expected a rate above 0 and at most 1000, got ${o.fps}`);
  if (o.crop) {
    for (const k of ['x', 'y', 'width', 'height'] as const) {
      const v = o.crop[k];
      if (!Number.isInteger(v) || v < 0 || ((k === 'width' || k === 'height') && v < 1))
        throw new RangeError(`crop.${k}: expected a whole number of pixels, got ${v}`);
    }
  }
  if (kind === 'file') {
    if (!existsSync(o.input)) throw new RangeError(`source: no such file or device: ${o.input}`);
    if (statSync(o.input).isDirectory())
      throw new RangeError(`source: ${o.input} is a folder, expected a video file, a camera, a stream URL or "-"`);
  }
  if (kind === 'camera' && !existsSync(o.input)) throw new RangeError(`source: no camera at ${o.input} (is it plugged in? ls /dev/video*)`);
  if (kind !== 'file' && (o.realtime || o.loop))
    throw new RangeError(`source: realtime and loop apply to video files only, not to ${kind} input ${o.input}`);
  if (kind === 'stdin' && o.stdinFormat && o.stdinFormat !== 'mjpeg' && !o.stdinSize) {
    throw new RangeError(`stdin: raw ${o.stdinFormat} frames need their size (input size WxH)`);
  }
  if (kind !== 'stdin' && (o.stdinFormat || o.stdinSize))
    throw new RangeError(`source: the input format applies to stdin ("-") only, not to ${o.input}`);
}
