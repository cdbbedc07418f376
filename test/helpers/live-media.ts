// Video made by ffmpeg for the live tests: a white bar moving on black, horizontal ("hbar") or vertical
// ("vbar"), as MJPEG in AVI files, as MJPEG byte streams for stdin, and as raw frames.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const SHAPES = {
  hbar: "drawbox=x='20+mod(t*30,60)':y=50:w=60:h=14:color=white:t=fill",
  vbar: "drawbox=x=70:y='10+mod(t*30,40)':w=14:h=60:color=white:t=fill",
  box: 'drawbox=x=40:y=20:w=80:h=80:color=white:t=4',
} as const;
export type Shape = keyof typeof SHAPES;

/** Whether ffmpeg is on the PATH. */
export function haveFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

function ffmpeg(args: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** A 160x120 MJPEG .avi of `shape` for `seconds` at `fps`. */
export function shapeVideo(dir: string, shape: Shape, opts: { seconds?: number; fps?: number; name?: string } = {}): string {
  const file = join(dir, opts.name ?? `${shape}.avi`);
  const d = opts.seconds ?? 3;
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `color=c=black:s=160x120:r=${opts.fps ?? 10}:d=${d}`,
    '-vf',
    SHAPES[shape],
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    file,
  ]);
  return file;
}

/** Several shapes one after the other in one video (each `seconds` long). */
export function sequenceVideo(dir: string, shapes: Shape[], seconds: number, fps: number, name: string): string {
  const parts = shapes.map((s, i) => shapeVideo(dir, s, { seconds, fps, name: `part-${name}-${i}.avi` }));
  const file = join(dir, name);
  const inputs = parts.flatMap((p) => ['-i', p]);
  const filter = `${parts.map((_, i) => `[${i}]`).join('')}concat=n=${parts.length}`;
  ffmpeg([...inputs, '-filter_complex', filter, '-c:v', 'mjpeg', '-q:v', '3', file]);
  return file;
}

/** Two shapes side by side in one 320x120 frame: `left` in the left half, `right` in the right. */
export function sideBySideVideo(dir: string, left: Shape, right: Shape, name: string): string {
  const a = shapeVideo(dir, left, { seconds: 1, name: `l-${name}` });
  const b = shapeVideo(dir, right, { seconds: 1, name: `r-${name}` });
  const file = join(dir, name);
  ffmpeg(['-i', a, '-i', b, '-filter_complex', '[0][1]hstack', '-c:v', 'mjpeg', '-q:v', '3', file]);
  return file;
}

/** The frames of a video as an MJPEG byte stream (concatenated JPEGs), as a camera tool pipes it. */
export function mjpegBytes(video: string): Buffer {
  return ffmpeg(['-i', video, '-c:v', 'mjpeg', '-q:v', '3', '-f', 'mjpeg', 'pipe:1']);
}

/** The frames of a video as raw grey pixels of its own size. */
export function rawGreyBytes(video: string): Buffer {
  return ffmpeg(['-i', video, '-pix_fmt', 'gray', '-f', 'rawvideo', 'pipe:1']);
}

/** One JPEG image of `shape` (160x120). */
export function shapeJpeg(shape: Shape): Buffer {
  return ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=c=black:s=160x120:r=1:d=1',
    '-vf',
    SHAPES[shape],
    '-frames:v',
    '1',
    '-c:v',
    'mjpeg',
    '-f',
    'image2pipe',
    'pipe:1',
  ]);
}
