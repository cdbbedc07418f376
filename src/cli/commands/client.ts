// engram client: the host side of the serial protocol, one request per invocation, for technicians
// and scripts (engram serve runs on the board; this talks to it through a serial cable).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import type { ClientInput, HelloReply, LinkClient } from '../../link/index.js';
import { parsePrunePolicy, type PrunePolicy } from '../../learner/prune.js';
import { policiesFromFlags, pruneOptions, PRUNE_FLAG_NAMES, type PruneFlags } from '../prune-flags.js';
import { wholeNumber } from '../numbers.js';
import { plural } from '../output.js';

interface ClientFlags {
  serial: string;
  baud?: string;
  profile?: string;
  timeout: string;
  keyFile?: string;
  maxFrame?: string;
}

interface InputFlags {
  features?: boolean;
  reduce: boolean;
}

export default function register(program: Command, cli: CliContext): void {
  const client = program
    .command('client')
    .description('send one request to an engram serve over a serial port')
    .requiredOption('--serial <path>', 'serial device connected to the board')
    .option('--baud <rate>', "line rate in bits per second (default: the device profile's, as serve uses, else 115200)")
    .option('--profile <name|file.json>', 'device profile of the board, for its baud rate (default: detected on this machine)')
    .option('--timeout <ms>', 'time allowed for an answer, on top of the time on the wire (SAVE: at least 30 s)', '5000')
    .option('--key-file <file>', 'pre-shared key (hex) that serve --key-file holds: tags requests that change the memory')
    .option('--max-frame <bytes>', 'largest answer frame to accept (as a small controller would say in HELLO)');
  client.addHelpText(
    'after',
    `
Every invocation starts with HELLO (protocol version, limits, the board's input size), then sends one request.
An image larger than the board's backbone input is reduced before it is sent (oriented, scaled to cover the
input, sent as raw pixels, PNG or JPEG, whichever fits a frame) and a line says so; --no-reduce sends the file
as it is.

Examples:
  engram client --serial /dev/ttyUSB0 hello
  engram client --serial /dev/ttyUSB0 learn mug mug1.jpg
  engram client --serial /dev/ttyUSB0 predict --top 3 photo.png --json
  engram client --serial /dev/ttyUSB0 learn cat --features cat-features.json
  engram client --serial /dev/ttyUSB0 learn-frame mug        # the board's camera (serve --watch) takes the image
  engram client --serial /dev/ttyUSB0 predict-frame --json
  engram client --serial /dev/ttyUSB0 --key-file board.key prune --max-density 0.2`,
  );

  /** Opens the port, says HELLO, runs `fn` with a client, closes the port whatever happens. */
  const withClient = async (fn: (c: LinkClient, hello: HelloReply) => Promise<void>) => {
    const flags = client.opts<ClientFlags>();
    const timeoutMs = wholeNumber('--timeout', flags.timeout, { min: 1 });
    const maxFrame = flags.maxFrame === undefined ? undefined : wholeNumber('--max-frame', flags.maxFrame, { min: 1 });
    let baudRate: number;
    if (flags.baud !== undefined) baudRate = wholeNumber('--baud', flags.baud, { min: 1 });
    else {
      const { resolveProfile } = await import('../../devices/index.js');
      const { profile } = resolveProfile({ profile: flags.profile });
      baudRate = profile?.serial.baudRate ?? 115200;
    }
    const { LinkClient, openSerial, closeSerial, readKeyFile, MIN_REPLY_FRAME } = await import('../../link/index.js');
    if (maxFrame !== undefined && maxFrame < MIN_REPLY_FRAME)
      throw new UsageError(`--max-frame: expected at least ${MIN_REPLY_FRAME} bytes, got ${maxFrame}`);
    let key: Buffer | null = null;
    if (flags.keyFile !== undefined) {
      try {
        key = readKeyFile(flags.keyFile, (w) => cli.output.warn(w));
      } catch (err) {
        throw new InputError((err as Error).message);
      }
    }
    let port;
    try {
      port = await openSerial({ path: flags.serial, baudRate });
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    const c = new LinkClient(port, { timeoutMs, baudRate, key, ...(maxFrame !== undefined ? { maxFrame } : {}) });
    const onAbort = () => c.close();
    cli.signal.addEventListener('abort', onAbort, { once: true });
    try {
      // Whatever engram sent before this invocation (answers to an earlier one, errors about line noise) is not ours.
      await c.discardInput(50);
      const hello = await c.hello();
      await fn(c, hello);
    } finally {
      cli.signal.removeEventListener('abort', onAbort);
      c.close();
      await closeSerial(port);
    }
  };
  /** The file as the board should get it: a feature vector, or an image reduced to the board's input. */
  const prepare = async (
    file: string,
    flags: InputFlags,
    hello: HelloReply,
    labelBytes: number,
  ): Promise<{ input: ClientInput; reduced: string | null }> => {
    const raw = readInput(file, flags);
    const { reduceImage, ReduceError, REQUEST_OVERHEAD_BYTES } = await import('../../link/reduce.js');
    const room = hello.maxFrame - 8 - Math.max(REQUEST_OVERHEAD_BYTES, labelBytes + 48);
    if (raw instanceof Float32Array) return { input: raw, reduced: null };
    if (!flags.reduce) {
      if (raw.length > room)
        throw new InputError(
          `${file}: ${raw.length} bytes do not fit in one request (at most ${room} bytes of image); leave out --no-reduce to have it reduced`,
        );
      return { input: raw, reduced: null };
    }
    try {
      const r = await reduceImage(raw, hello.link?.input ?? null, room, file);
      if (r.note) cli.output.info(r.note);
      const input =
        r.input.kind === 'image'
          ? r.input.bytes
          : { data: r.input.data, width: r.input.width, height: r.input.height, channels: r.input.channels };
      return { input, reduced: r.note };
    } catch (err) {
      if (err instanceof ReduceError) throw new InputError(err.message);
      throw err;
    }
  };
  const out = () => cli.output;

  client
    .command('hello')
    .description('handshake: protocol version, limits, what the board accepts')
    .action(
      cli.action(() =>
        withClient(async (_c, r) => {
          const link = r.link ? { ...r.link, session: r.link.session.toString('hex') } : undefined;
          const lines = [
            `engram ${r.engram} on ${r.device || 'an unprofiled device'}: protocol ${r.version}, frames up to ${r.maxFrame} bytes, ` +
              `${r.images ? 'images and ' : ''}${r.featureDim ? `${r.featureDim}-d feature vectors` : 'no feature vectors'}`,
          ];
          if (link) {
            if (link.input.width) lines.push(`backbone input ${link.input.width}x${link.input.height}x${link.input.channels}`);
            lines.push(`allowed: ${link.allowed.join(', ')}${link.keyRequired ? '; changes need the key (--key-file)' : ''}`);
          }
          out().result({ ...r, ...(link ? { link } : {}) }, lines.join('\n'));
        }),
      ),
    );

  client
    .command('learn')
    .description('store one example of a class')
    .argument('<label>', 'the class')
    .argument('<file>', 'an image file, or with --features a feature vector (.json array or raw float32 .f32)')
    .option('--features', 'FILE is a feature vector')
    .option('--no-reduce', 'send the image file as it is, however large')
    .action(
      cli.action((label: string, file: string, flags: InputFlags) =>
        withClient(async (c, hello) => {
          const { input, reduced } = await prepare(file, flags, hello, Buffer.byteLength(label));
          const r = await c.learn(label, input);
          out().result(
            { ...r, ...(reduced ? { reduced } : {}) },
            `learned ${r.label}: ${r.stored} stored, ${plural(r.classes, 'class', 'classes')}`,
          );
        }),
      ),
    );

  client
    .command('predict')
    .description('classify one input')
    .argument('<file>', 'an image file, or with --features a feature vector')
    .option('--features', 'FILE is a feature vector')
    .option('--top <n>', 'classes to list', '3')
    .option('--no-reduce', 'send the image file as it is, however large')
    .action(
      cli.action((file: string, flags: InputFlags & { top: string }) =>
        withClient(async (c, hello) => {
          const { input, reduced } = await prepare(file, flags, hello, 0);
          const r = await c.predict(input, { top: wholeNumber('--top', flags.top, { min: 1 }) });
          const head =
            r.label === null
              ? `unknown (best score ${r.score.toFixed(3)})`
              : `${r.label} (score ${r.score.toFixed(3)}, margin ${r.margin.toFixed(3)})`;
          out().result(
            { ...r, ...(reduced ? { reduced } : {}) },
            [head, ...r.top.map((t) => `  ${t.label}: ${t.score.toFixed(3)}`)].join('\n'),
          );
        }),
      ),
    );

  client
    .command('learn-frame')
    .description("learn the board camera's next frame as a class (the board runs engram serve --watch)")
    .argument('<label>', 'the class')
    .action(
      cli.action((label: string) =>
        withClient(async (c) => {
          const r = await c.learnFrame(label);
          out().result({ ...r }, `learned frame ${r.frame} as ${r.label}: ${r.stored} stored, ${plural(r.classes, 'class', 'classes')}`);
        }),
      ),
    );

  client
    .command('predict-frame')
    .description("classify the board camera's newest frame (the board runs engram serve --watch)")
    .option('--top <n>', 'classes to list', '3')
    .action(
      cli.action((flags: { top: string }) =>
        withClient(async (c) => {
          const r = await c.predictFrame({ top: wholeNumber('--top', flags.top, { min: 1 }) });
          const head =
            r.label === null
              ? `frame ${r.frame}: unknown (best score ${r.score.toFixed(3)})`
              : `frame ${r.frame}: ${r.label} (score ${r.score.toFixed(3)}, margin ${r.margin.toFixed(3)})`;
          out().result({ ...r }, [head, ...r.top.map((t) => `  ${t.label}: ${t.score.toFixed(3)}`)].join('\n'));
        }),
      ),
    );

  client
    .command('forget')
    .description('remove a class')
    .argument('<label>', 'the class')
    .action(
      cli.action((label: string) =>
        withClient(async (c) => {
          const r = await c.forget(label);
          out().result({ ...r }, `forgot ${r.label}: ${plural(r.removed, 'connection')} removed`);
        }),
      ),
    );

  pruneOptions(
    client
      .command('prune')
      .description('apply one pruning policy (the flags of engram prune; --max-bytes with --max-density make one budget)'),
    { fanin: true },
  )
    .addHelpText('after', '\n--fanin, the old name of --max-classes, is still taken.')
    .action(
      cli.action((flags: PruneFlags) =>
        withClient(async (c) => {
          const r = await c.prune(prunePolicy(flags));
          const size = r.compressedBytes === undefined ? `${r.bytes} bytes` : `${r.compressedBytes} bytes compressed (${r.bytes} resident)`;
          out().result({ ...r }, `pruned ${plural(r.removed, 'connection')}; memory is ${size}`);
        }),
      ),
    );

  client
    .command('stats')
    .description('classes, examples, size and density')
    .action(
      cli.action(() =>
        withClient(async (c) => {
          // Version 2 also gives the open-set threshold (an engram older than that answer refuses the flag).
          const r = c.protocolVersion >= 2 ? await c.stats({ threshold: true }).catch(() => c.stats()) : await c.stats();
          // Version 2 pages through a label list longer than one answer.
          if (c.protocolVersion >= 2 && r.labels.length < r.labelsTotal) r.labels = await c.labels();
          const more = r.labelsTotal > r.labels.length ? ` (first ${r.labels.length} of ${r.labelsTotal})` : '';
          const size = r.compressedBytes === undefined ? `${r.bytes} bytes` : `${r.compressedBytes} bytes compressed (${r.bytes} resident)`;
          const t = r.threshold;
          const threshold = t
            ? `\nunknown threshold: ${t.value.toFixed(3)}, ${t.source}${t.source === 'calibrated' ? ` (from ${t.known} known and ${t.novel} novel samples)` : ''}`
            : '';
          out().result(
            { ...r },
            `classes: ${r.classes}${r.labels.length ? `: ${r.labels.join(', ')}${more}` : ''}\nexamples: ${r.examples}\nmemory: ${size}, density ${r.density.toFixed(4)}${threshold}`,
          );
        }),
      ),
    );

  client
    .command('save')
    .description('write a snapshot on the board')
    .action(
      cli.action(() =>
        withClient(async (c) => {
          await c.save();
          out().result({ saved: true }, 'saved');
        }),
      ),
    );
}

/** An image file as its bytes, or a feature vector from JSON or raw little-endian float32. */
function readInput(file: string, flags: InputFlags): Buffer | Float32Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!flags.features) return bytes;
  if (file.toLowerCase().endsWith('.json')) {
    let v: unknown;
    try {
      v = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new InputError(`${file}: expected a JSON array of finite numbers`);
    }
    return Float32Array.from(v as number[]);
  }
  if (bytes.length === 0 || bytes.length % 4 !== 0)
    throw new InputError(`${file}: a raw float32 file needs a positive multiple of 4 bytes, got ${bytes.length}`);
  const vec = new Float32Array(bytes.length / 4);
  for (let i = 0; i < vec.length; i++) vec[i] = bytes.readFloatLE(i * 4);
  return vec;
}

/** Exactly one policy: the link takes one per PRUNE request. */
function prunePolicy(f: PruneFlags): PrunePolicy {
  const policies = policiesFromFlags(f, { oneBudget: true });
  if (policies.length !== 1)
    throw new UsageError(`prune: give one policy: ${PRUNE_FLAG_NAMES} (--max-bytes with --max-density make one budget)`);
  try {
    return parsePrunePolicy(policies[0]);
  } catch (err) {
    throw new UsageError(`prune: ${(err as Error).message}`);
  }
}
