// engram serve: answer a field controller over a serial line (protocol in docs/protocol.md) until
// interrupted; a port that goes away is reopened when it comes back.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import type { RequestName } from '../../link/index.js';
import { engramOptions, modelOptions, storeOptions, type StoreFlags } from '../learner-options.js';

interface ServeFlags extends StoreFlags {
  serial?: string;
  baud?: string;
  features?: string;
  idleTimeout: string;
  readOnly?: boolean;
  allow?: string;
  keyFile?: string;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('serve')
    .description('serve the learner to a controller over a serial port (framed protocol, see docs/protocol.md)')
    .option('--serial <path>', "serial device (default: the device profile's port)")
    .option('--baud <rate>', "line rate in bits per second (default: the device profile's, else 115200)")
    .option('--features <dim>', 'no backbone: accept feature vectors of this length instead of images')
    .option('--idle-timeout <ms>', 'drop a partial frame after this long without a byte', '1000')
    .option('--read-only', 'answer only HELLO, PREDICT and STATS; the store is opened read-only')
    .option('--allow <ops>', 'comma-separated requests to run, others are refused NOT_ALLOWED: hello,learn,predict,forget,prune,stats,save')
    .option('--key-file <file>', 'pre-shared key (hex, e.g. from openssl rand -hex 32): LEARN, FORGET, PRUNE and SAVE must carry its tag');
  storeOptions(cmd);
  modelOptions(cmd);
  cmd.addHelpText('after', `
Examples:
  engram serve --serial /dev/ttyUSB0 --baud 921600 --store ./mem
  engram serve --serial /dev/serial0 --store ./mem --features 1280 --quantizer topk --topk 32
  engram serve --serial /dev/ttyAMA0 --store ./mem --read-only
  engram serve --serial /dev/ttyAMA0 --store ./mem --allow predict,stats,learn --key-file /etc/engram/link.key

Anyone who can write to the serial port can otherwise teach, prune and wipe the store: see the threat model
in docs/protocol.md.`);
  cmd.action(
    cli.action(async (flags: ServeFlags) => {
      const out = cli.output;
      const baudFlag = flags.baud === undefined ? undefined : wholeNumber('--baud', flags.baud);
      const idleTimeoutMs = wholeNumber('--idle-timeout', flags.idleTimeout);
      const featureDim = flags.features === undefined ? undefined : wholeNumber('--features', flags.features);
      const { REQUEST_NAMES, READ_ONLY_REQUESTS, readKeyFile } = await import('../../link/index.js');
      let allow: RequestName[] | undefined;
      if (flags.allow !== undefined) {
        allow = flags.allow.split(',').map((a) => a.trim().toLowerCase()).filter(Boolean) as RequestName[];
        const bad = allow.filter((a) => !REQUEST_NAMES.includes(a));
        if (bad.length || allow.length === 0) throw new UsageError(`--allow: unknown request ${bad.map((b) => `"${b}"`).join(', ') || '(none given)'}; choose from ${REQUEST_NAMES.join(', ')}`);
      }
      if (flags.readOnly) {
        const writes = (allow ?? []).filter((a) => !READ_ONLY_REQUESTS.includes(a));
        if (writes.length) throw new UsageError(`--read-only conflicts with --allow ${writes.join(',')}`);
        allow = allow ?? [...READ_ONLY_REQUESTS];
      }
      let key: Buffer | null = null;
      if (flags.keyFile !== undefined) {
        try {
          key = readKeyFile(flags.keyFile, (w) => out.warn(w));
        } catch (err) {
          throw new InputError((err as Error).message);
        }
      }

      const { resolveProfile } = await import('../../devices/index.js');
      const { profile, source, detection } = resolveProfile({ profile: flags.profile });
      for (const w of detection.warnings) out.warn(w);
      const path = flags.serial ?? profile?.serial.path;
      if (!path) throw new UsageError('serve: no --serial given and no device profile matched to supply one');
      const baudRate = baudFlag ?? profile?.serial.baudRate ?? 115200;
      if (profile) out.info(`device profile ${profile.id} (${source})`);

      const opts = engramOptions(flags, (m) => out.warn(m));
      if (flags.readOnly) opts.readOnly = true;
      if (featureDim !== undefined) {
        opts.backbone = null;
        opts.quantizer = { kind: 'topk', ...opts.quantizer, dim: featureDim };
      }
      const { Engram } = await import('../../learner/engram.js');
      const { LinkServer, serveSerial } = await import('../../link/index.js');
      if (!allow && !key) out.warn('serve: any device that can write to the serial port can change or wipe the store; --read-only, --allow and --key-file limit that (docs/protocol.md, threat model)');
      const engram = await Engram.open(opts);
      try {
        const info = engram.stats();
        const server = new LinkServer(engram, {
          featureDim: engram.quantizer.dim,
          images: info.backbone !== null,
          input: engram.input,
          device: profile?.id ?? '',
          ...(allow ? { allow } : {}),
          key,
          idleTimeoutMs,
          log: (line) => out.info(line),
        });
        const serial = profile && !flags.serial ? { ...profile.serial, baudRate } : { path, baudRate };
        await serveSerial(server, serial, {
          signal: cli.signal,
          status: (line) => out.info(line),
          onOpen: (reopened) => out.result({ event: reopened ? 'reconnected' : 'listening', serial: path, baud: baudRate, store: flags.store }, reopened ? `reconnected to ${path}` : `listening on ${path} at ${baudRate} baud (store ${flags.store})`),
        });
        out.result({ event: 'stopped', ...server.counters }, `stopped: ${server.counters.acks} requests answered, ${server.counters.errors} errors`);
      } finally {
        await engram.close();
      }
      return 0;
    }),
  );
}

function wholeNumber(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag}: expected a whole number >= 1, got "${v}"`);
  return Number(v);
}
