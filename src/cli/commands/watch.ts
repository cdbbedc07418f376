// engram watch: predict (or learn) frames from a camera, a stream, a video file or stdin as they arrive,
// decoded by ffmpeg. Frames the learner has no time for are dropped and counted, never queued.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_INTERRUPTED, InputError, UsageError } from '../errors.js';
import { wholeNumber } from '../numbers.js';
import type { LiveLearned, LivePrediction } from '../../live/loop.js';
import { engramOptions, modelOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { DEFAULT_SIZE, sourceFlags, sourceOptions, type SourceFlags } from '../live-options.js';

interface WatchFlags extends StoreFlags, SourceFlags {
  label?: string;
  frames?: string;
  every: string;
  top: string;
  maxFrames?: string;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('watch')
    .description('predict, or learn, the frames of a camera, stream, video file or stdin as they arrive (decoded by ffmpeg)')
    .argument(
      '[source]',
      'a camera (/dev/video0), a stream URL (rtsp://, http://), a video file, or "-" for frames on stdin (default: the device profile\'s camera)',
    )
    .option('--label <label>', 'learn mode: capture frames as examples of this label')
    .option('--frames <n>', 'learn mode: how many frames to capture (default 10)')
    .option('--every <k>', 'use one frame in k (predict: every k-th frame; learn: examples k frames apart)', '1')
    .option('--top <n>', 'predict: how many classes to list per frame', '3')
    .option('--max-frames <n>', 'stop after answering n frames (predict mode)');
  sourceFlags(cmd);
  storeOptions(cmd);
  modelOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Predict mode prints one line per answered frame: frame number, time in the source (s), label ("unknown"
when nothing stored is close enough), score, margin, latency from decoded frame to answer, and the frames
dropped so far because the learner was busy. With --json: {"frame","time","label","score","margin","top",
"latency_ms","dropped"}, label null for unknown. A summary ends the run: frames decoded, answered, dropped,
answers per second and latency percentiles.

Learn mode (--label) stores --frames frames as examples, each acknowledged only once it is durable (as
engram learn), then stops.

A camera or stream drops the frames the learner has no time for; a video file is read as fast as the learner
goes and nothing is dropped, unless --realtime.

Examples:
  engram watch /dev/video0 --store ./mem --label mug --frames 20 --every 5
  engram watch /dev/video0 --store ./mem --fps 10
  engram watch rtsp://camera.local/stream --store ./mem --crop 480x480+80+0 --json
  engram watch clip.mp4 --store ./mem --every 3
  some-camera-tool --mjpeg | engram watch - --store ./mem`,
  );
  cmd.action(
    cli.action(async (sourceArg: string | undefined, flags: WatchFlags) => {
      const out = cli.output;
      const source = await profileCamera(sourceArg, flags);
      const learnMode = flags.label !== undefined;
      if (!learnMode && flags.frames !== undefined) throw new UsageError('--frames: only applies with --label (learn mode)');
      if (learnMode && flags.maxFrames !== undefined)
        throw new UsageError('--max-frames: applies to predict mode; learn mode stops after --frames');
      if (learnMode && flags.label === '') throw new UsageError('--label: expected a non-empty label');
      const every = wholeNumber('--every', flags.every, { min: 1 });
      const top = wholeNumber('--top', flags.top, { min: 1 });
      const frames = flags.frames === undefined ? 10 : wholeNumber('--frames', flags.frames, { min: 1, max: 1000 });
      const maxFrames = flags.maxFrames === undefined ? undefined : wholeNumber('--max-frames', flags.maxFrames, { min: 1 });
      const srcOpts = sourceOptions(source, flags);

      const { FrameSource } = await import('../../live/source.js');
      const { LiveLoop } = await import('../../live/loop.js');
      const { Engram } = await import('../../learner/engram.js');
      const opts = engramOptions(
        flags,
        (m) => out.warn(m),
        (m) => out.info(m),
      );
      const engram = await Engram.open(learnMode ? opts : { ...opts, readOnly: true });
      // Nobody looks at the frames: unless --size (or the device profile's camera) says otherwise, ffmpeg
      // decodes them straight to the size the backbone needs (docs/live.md, speed).
      if (flags.size === DEFAULT_SIZE && cmd.getOptionValueSource('size') === 'default' && engram.input) {
        const { learnerFrameSize } = await import('../../live/source.js');
        const fit = learnerFrameSize(engram.input);
        Object.assign(srcOpts, { width: fit.width, height: fit.height, channels: flags.grey ? 1 : fit.channels });
      }
      let frameSource;
      try {
        try {
          frameSource = new FrameSource(srcOpts);
        } catch (err) {
          throw new InputError(err instanceof Error ? err.message : String(err));
        }
        const loop = new LiveLoop(engram, frameSource, { every, top, predict: !learnMode });
        const stop = new AbortController();
        const onAbort = () => stop.abort();
        cli.signal.addEventListener('abort', onAbort, { once: true });
        let answered = 0;
        loop.on('prediction', (p: LivePrediction) => {
          out.result(
            {
              frame: p.frame,
              time: p.time,
              label: p.label,
              score: p.score,
              margin: p.margin,
              top: p.top,
              latency_ms: p.latencyMs,
              dropped: p.dropped,
            },
            `frame ${p.frame}\t${p.time.toFixed(3)} s\t${p.label ?? 'unknown'}\tscore ${p.score.toFixed(3)}\tmargin ${p.margin.toFixed(3)}\t${p.latencyMs.toFixed(1)} ms\tdropped ${p.dropped}`,
          );
          answered++;
          if (maxFrames !== undefined && answered >= maxFrames) stop.abort();
        });
        loop.on('learned', (l: LiveLearned) => {
          out.result(
            { event: 'learned', label: l.label, frame: l.frame, time: l.time, example: l.example, of: l.of, latency_ms: l.latencyMs },
            `learned frame ${l.frame} (${l.time.toFixed(3)} s) as ${l.label}: ${l.example}/${l.of}`,
          );
        });
        const running = loop.run(stop.signal);
        let captureError: Error | null = null;
        if (learnMode) {
          loop
            .capture({ label: flags.label!, frames, every })
            .then(() => stop.abort())
            .catch((e: Error) => {
              captureError = e;
            });
        }
        let summary;
        try {
          summary = await running;
        } catch (err) {
          throw new InputError(err instanceof Error ? err.message : String(err));
        } finally {
          cli.signal.removeEventListener('abort', onAbort);
        }
        await new Promise((r) => setImmediate(r)); // let a capture settle
        out.result(
          {
            event: 'summary',
            decoded: summary.decoded,
            predicted: summary.predicted,
            learned: summary.learned,
            dropped: summary.dropped,
            seconds: summary.seconds,
            fps: summary.fps,
            latency_ms: summary.latencyMs,
          },
          `${summary.decoded} frames decoded, ${summary.predicted} predicted, ${summary.learned} learned, ${summary.dropped} dropped in ${summary.seconds} s (${summary.fps} per second)` +
            (summary.latencyMs ? `; latency p50 ${summary.latencyMs.p50} ms, p95 ${summary.latencyMs.p95} ms` : ''),
        );
        if (cli.signal.aborted) return EXIT_INTERRUPTED;
        if (captureError) throw new InputError((captureError as Error).message);
        if (summary.decoded === 0) throw new InputError(`watch: ${source} gave no frames`);
      } finally {
        frameSource?.stop();
        await frameSource?.closed();
        await engram.close();
      }
      return 0;
    }),
  );
}

/** The source named on the command line, else the device profile's camera (its size and rate unless given). */
async function profileCamera(source: string | undefined, flags: SourceFlags & { profile?: string }): Promise<string> {
  if (source !== undefined) return source;
  const { resolveProfile } = await import('../../devices/index.js');
  const { profile } = resolveProfile({ profile: flags.profile });
  const camera = profile?.camera;
  if (!camera)
    throw new UsageError(
      `watch: no source given and ${profile ? `device profile ${profile.id} names no camera` : 'no device profile matched'}; name one (e.g. /dev/video0)`,
    );
  if (camera.size && flags.size === DEFAULT_SIZE) flags.size = camera.size;
  if (camera.fps !== undefined && flags.fps === undefined) flags.fps = String(camera.fps);
  return camera.source;
}
