// engram serve: answer a field controller over a serial line (protocol in docs/protocol.md) until
// interrupted; a port that goes away is reopened when it comes back.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { engramOptions, modelOptions, storeOptions, type StoreFlags } from '../learner-options.js';

interface ServeFlags extends StoreFlags {
  serial?: string;
  baud?: string;
  features?: string;
  idleTimeout: string;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('serve')
    .description('serve the learner to a controller over a serial port (framed protocol, see docs/protocol.md)')
    .option('--serial <path>', "serial device (default: the device profile's port)")
    .option('--baud <rate>', "line rate in bits per second (default: the device profile's, else 115200)")
    .option('--features <dim>', 'no backbone: accept feature vectors of this length instead of images')
    .option('--idle-timeout <ms>', 'drop a partial frame after this long without a byte', '1000');
  storeOptions(cmd);
  modelOptions(cmd);
  cmd.addHelpText('after', `
Examples:
  engram serve --serial /dev/ttyUSB0 --baud 921600 --store ./mem
  engram serve --serial /dev/serial0 --store ./mem --features 1280 --quantizer topk --topk 32`);
  cmd.action(
    cli.action(async (flags: ServeFlags) => {
      const out = cli.output;
      const baudFlag = flags.baud === undefined ? undefined : wholeNumber('--baud', flags.baud);
      const idleTimeoutMs = wholeNumber('--idle-timeout', flags.idleTimeout);
      const featureDim = flags.features === undefined ? undefined : wholeNumber('--features', flags.features);

      const { resolveProfile } = await import('../../devices/index.js');
      const { profile, source, detection } = resolveProfile({ profile: flags.profile });
      for (const w of detection.warnings) out.warn(w);
      const path = flags.serial ?? profile?.serial.path;
      if (!path) throw new UsageError('serve: no --serial given and no device profile matched to supply one');
      const baudRate = baudFlag ?? profile?.serial.baudRate ?? 115200;
      if (profile) out.info(`device profile ${profile.id} (${source})`);

      const opts = engramOptions(flags, (m) => out.warn(m));
      if (featureDim !== undefined) {
        opts.backbone = null;
        opts.quantizer = { kind: 'topk', ...opts.quantizer, dim: featureDim };
      }
      const { Engram } = await import('../../learner/engram.js');
      const { LinkServer, serveSerial } = await import('../../link/index.js');
      const engram = await Engram.open(opts);
      try {
        const info = engram.stats();
        const server = new LinkServer(engram, {
          featureDim: engram.quantizer.dim,
          images: info.backbone !== null,
          device: profile?.id ?? '',
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
