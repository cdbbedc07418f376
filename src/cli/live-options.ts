// Options of a live source (engram watch, engram serve --watch), declared once and parsed once into the
// source's options.
import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { decimalNumber } from './numbers.js';
import type { SourceOptions, StdinFormat } from '../live/source.js';

export interface SourceFlags {
  fps?: string;
  size: string;
  crop?: string;
  grey?: boolean;
  realtime?: boolean;
  loop?: boolean;
  inputFormat?: string;
  inputSize?: string;
}

/** --size's default, so a device profile's camera size can apply when it was not given. */
export const DEFAULT_SIZE = '320x240';

export function sourceFlags(cmd: Command): Command {
  return cmd
    .option('--fps <rate>', 'frames per second taken from the source (default: its own rate)')
    .option(
      '--size <WxH>',
      'frame size: the source is scaled to fit, aspect kept, padded with black (engram watch: default the size the backbone needs)',
      DEFAULT_SIZE,
    )
    .option('--crop <WxH+X+Y>', 'region of interest in source pixels, cut before scaling (e.g. 400x400+120+40)')
    .option('--grey', 'decode to one grey channel instead of RGB')
    .option('--realtime', 'video file: read at its own frame rate, as a camera delivers it (frames may then be dropped)')
    .option('--loop', 'video file: start again at its end, until interrupted or --max-frames')
    .option('--input-format <fmt>', 'stdin: mjpeg (concatenated JPEGs, default), gray or rgb24 (raw frames of --input-size)')
    .option('--input-size <WxH>', 'stdin: the size of raw frames');
}

export function sourceOptions(source: string, flags: SourceFlags): SourceOptions {
  const [width, height] = size('--size', flags.size);
  const o: SourceOptions = { input: source, width, height, channels: flags.grey ? 1 : 3 };
  if (flags.fps !== undefined) {
    o.fps = decimalNumber('--fps', flags.fps, { above: 0, max: 1000 });
  }
  if (flags.crop !== undefined) {
    const m = /^(\d+)x(\d+)\+(\d+)\+(\d+)$/.exec(flags.crop);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
      throw new UsageError(`--crop: expected WxH+X+Y in source pixels (e.g. 400x400+120+40), got "${flags.crop}"`);
    o.crop = { width: Number(m[1]), height: Number(m[2]), x: Number(m[3]), y: Number(m[4]) };
  }
  const stdin = source === '-';
  if (flags.realtime) o.realtime = true;
  if (flags.loop) o.loop = true;
  if ((flags.realtime || flags.loop) && (stdin || /^\/dev\/|:\/\//.test(source)))
    throw new UsageError('--realtime and --loop apply to video files only');
  if (flags.inputFormat !== undefined || flags.inputSize !== undefined) {
    if (!stdin) throw new UsageError('--input-format and --input-size apply to frames on stdin ("-") only');
    const fmt = flags.inputFormat ?? 'mjpeg';
    if (!['mjpeg', 'gray', 'rgb24'].includes(fmt)) throw new UsageError(`--input-format: expected mjpeg, gray or rgb24, got "${fmt}"`);
    o.stdinFormat = fmt as StdinFormat;
    if (fmt !== 'mjpeg') {
      if (flags.inputSize === undefined) throw new UsageError(`--input-size: raw ${fmt} frames on stdin need their size (WxH)`);
      const [w, h] = size('--input-size', flags.inputSize);
      o.stdinSize = { width: w, height: h };
    } else if (flags.inputSize !== undefined) {
      throw new UsageError('--input-size: MJPEG frames carry their own size; it applies to --input-format gray or rgb24');
    }
  }
  return o;
}

export function size(flag: string, v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  const ok = m && [m[1], m[2]].every((s) => Number(s) >= 8 && Number(s) <= 4096 && Number(s) % 2 === 0);
  if (!ok) throw new UsageError(`${flag}: expected WxH with even sides from 8 to 4096 pixels (e.g. 320x240), got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}
