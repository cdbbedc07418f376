// engram serve: answer a field controller over a serial line (protocol in docs/protocol.md), and/or other
// programs and a browser over HTTP (docs/http.md), until interrupted; both share one learner. A serial port
// that goes away is reopened when it comes back.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { join } from 'node:path';
import type { RequestName } from '../../link/index.js';
import { engramOptions, modelOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { sourceFlags, sourceOptions, type SourceFlags } from '../live-options.js';
import { wholeNumber } from '../numbers.js';
import { anyFleetFlag, fleetOptions, fleetSyncOptions, type FleetFlags } from '../fleet-options.js';

interface ServeFlags extends StoreFlags, SourceFlags, FleetFlags {
  fleetAllow?: string;
  http?: string;
  tokenFile?: string;
  maxBody: string;
  rate: string;
  maxConcurrent: string;
  watch?: string;
  every: string;
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
    .description('serve the learner over a serial port (framed protocol, docs/protocol.md) and/or HTTP with a web page (docs/http.md)')
    .option('--serial <path>', "serial device (default: the device profile's port)")
    .option('--baud <rate>', "line rate in bits per second (default: the device profile's, else 115200)")
    .option('--features <dim>', 'no backbone: accept feature vectors of this length instead of images')
    .option('--idle-timeout <ms>', 'drop a partial frame after this long without a byte', '1000')
    .option('--http <[host:]port>', 'serve the HTTP API and the web page here (host default 127.0.0.1; 0 picks a free port)')
    .option('--token-file <file>', 'HTTP: the token that changes need (made at first start, mode 0600; default <store>/http-token)')
    .option('--max-body <bytes>', 'HTTP: most bytes in one request body', String(8 * 1024 * 1024))
    .option('--rate <n>', 'HTTP: requests per second one client may make (bursts of twice that)', '100')
    .option('--max-concurrent <n>', 'HTTP: requests handled at once (256 more wait, then 503)', '16')
    .option(
      '--watch <source>',
      'predict the frames of this camera, stream, video file or "-" live (see engram watch); HTTP streams the answers, serial gets LEARN-FRAME and PREDICT-FRAME',
    )
    .option('--every <k>', '--watch: predict one frame in k', '1');
  sourceFlags(cmd);
  cmd
    .option('--read-only', 'answer only HELLO, PREDICT and STATS; the store is opened read-only (with --fleet: publishes nothing)')
    .option(
      '--allow <ops>',
      'comma-separated requests to run, others are refused NOT_ALLOWED: hello,learn,predict,forget,prune,stats,save,learn-frame,predict-frame',
    )
    .option(
      '--key-file <file>',
      'pre-shared key (hex, e.g. from openssl rand -hex 32): LEARN, FORGET, PRUNE, SAVE and LEARN-FRAME must carry its tag',
    );
  fleetOptions(
    cmd,
    '--fleet-allow',
    "also share with this fleet through --broker (as engram sync does, on the open store): learns over HTTP or serial are published, the fleet's are answered",
  );
  storeOptions(cmd);
  modelOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Without --http, the serial port is the device profile's unless --serial names one; with --http, serial is
served too only when --serial is given. Every HTTP call that changes the memory needs the token, which is
printed once, when it is made, and kept in --token-file.

Examples:
  engram serve --http 8080 --store ./mem --watch /dev/video0      # then open http://127.0.0.1:8080/
  engram serve --http 0.0.0.0:8080 --serial /dev/ttyUSB0 --store ./mem
  engram serve --serial /dev/ttyUSB0 --baud 921600 --store ./mem
  engram serve --serial /dev/serial0 --store ./mem --features 1280 --quantizer topk --topk 32
  engram serve --serial /dev/ttyAMA0 --store ./mem --read-only
  engram serve --serial /dev/ttyAMA0 --store ./mem --allow predict,stats,learn --key-file /etc/engram/link.key
  engram serve --serial /dev/ttyAMA0 --store ./mem --watch /dev/video0   # a button on the controller: LEARN-FRAME

With --fleet, serve also does what engram sync does, in the same process on the same open store: what it learns
over HTTP or serial is published to the fleet, and what the fleet learns is answered here (docs/fleet.md):
  engram sync --store ./mem --print-key >> allow.txt     # once per device: its line for the allow-list
  engram serve --http 8080 --store ./mem --fleet line3 --broker mqtt://broker:1883 --fleet-allow allow.txt

Anyone who can write to the serial port can otherwise teach, prune and wipe the store: see the threat model
in docs/protocol.md.`,
  );
  cmd.action(
    cli.action(async (flags: ServeFlags) => {
      const out = cli.output;
      const baudFlag = flags.baud === undefined ? undefined : wholeNumber('--baud', flags.baud, { min: 1 });
      const idleTimeoutMs = wholeNumber('--idle-timeout', flags.idleTimeout, { min: 1 });
      const featureDim = flags.features === undefined ? undefined : wholeNumber('--features', flags.features, { min: 1 });
      const { REQUEST_NAMES, READ_ONLY_REQUESTS, readKeyFile } = await import('../../link/index.js');
      let allow: RequestName[] | undefined;
      if (flags.allow !== undefined) {
        allow = flags.allow
          .split(',')
          .map((a) => a.trim().toLowerCase())
          .filter(Boolean) as RequestName[];
        const bad = allow.filter((a) => !REQUEST_NAMES.includes(a));
        if (bad.length || allow.length === 0)
          throw new UsageError(
            `--allow: unknown request ${bad.map((b) => `"${b}"`).join(', ') || '(none given)'}; choose from ${REQUEST_NAMES.join(', ')}`,
          );
      }
      const frameOps = (allow ?? []).filter((a) => a === 'learn-frame' || a === 'predict-frame');
      if (frameOps.length && flags.watch === undefined)
        throw new UsageError(`--allow ${frameOps.join(',')}: these requests use the watched source; add --watch SOURCE`);
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

      const fleet = anyFleetFlag(flags) ? await fleetSyncOptions(flags, flags.fleetAllow, '--fleet-allow', 'serve', out, cli.signal) : null;
      const http = flags.http === undefined ? undefined : hostPort(flags.http);
      const maxBodyBytes = wholeNumber('--max-body', flags.maxBody, { min: 1 });
      const rate = wholeNumber('--rate', flags.rate, { min: 1 });
      const maxConcurrent = wholeNumber('--max-concurrent', flags.maxConcurrent, { min: 1 });
      const every = wholeNumber('--every', flags.every, { min: 1 });
      const source = flags.watch === undefined ? undefined : sourceOptions(flags.watch, flags);

      const { resolveProfile } = await import('../../devices/index.js');
      const { profile, source: profileSource, detection } = resolveProfile({ profile: flags.profile });
      for (const w of detection.warnings) out.warn(w);
      const serialWanted = flags.serial !== undefined || !http;
      const path = flags.serial ?? profile?.serial.path;
      if (serialWanted && !path)
        throw new UsageError('serve: no --serial given and no device profile matched to supply one (or serve --http only)');
      const baudRate = baudFlag ?? profile?.serial.baudRate ?? 115200;
      if (profile) out.info(`device profile ${profile.id} (${profileSource})`);

      const opts = engramOptions(flags, (m) => out.warn(m));
      // With --fleet the store takes the fleet's changes: it is opened writable, and --read-only keeps the
      // requests to HELLO, PREDICT and STATS and the device from publishing.
      if (flags.readOnly && !fleet) opts.readOnly = true;
      if (featureDim !== undefined) {
        opts.backbone = null;
        opts.quantizer = { kind: 'topk', ...opts.quantizer, dim: featureDim };
      }
      const { Engram } = await import('../../learner/engram.js');
      if (!allow && !key && (flags.serial !== undefined || !http))
        out.warn(
          'serve: any device that can write to the serial port can change or wipe the store; --read-only, --allow and --key-file limit that (docs/protocol.md, threat model)',
        );
      const engram = await Engram.open(opts);
      const stops: (() => Promise<void>)[] = [];
      try {
        if (fleet) {
          // Joined before anything is served, so every change made here is shared; stopped after HTTP and serial.
          const { runSync } = await import('../../fleet/sync.js');
          const halt = new AbortController();
          let started = false;
          let ready!: { resolve: () => void; reject: (err: unknown) => void };
          const up = new Promise<void>((resolve, reject) => (ready = { resolve, reject }));
          const running = runSync({
            ...fleet,
            store: engram,
            readOnly: flags.readOnly,
            signal: halt.signal,
            onEvent: (e) => {
              fleet.onEvent(e);
              if (e.event === 'ready') {
                started = true;
                ready.resolve();
              }
            },
          });
          running.catch((err: Error) => (started ? out.warn(`fleet ${flags.fleet}: stopped sharing: ${err.message}`) : ready.reject(err)));
          await up;
          stops.push(async () => {
            halt.abort();
            await running.catch(() => {});
          });
        }
        let live = null;
        if (source) {
          const { FrameSource } = await import('../../live/source.js');
          const { LiveLoop } = await import('../../live/loop.js');
          let frames;
          try {
            frames = new FrameSource(source);
          } catch (err) {
            throw new InputError(err instanceof Error ? err.message : String(err));
          }
          live = new LiveLoop(engram, frames, { every });
          const running = live.run(cli.signal).then(
            (s) => out.info(`live source ${flags.watch} ended: ${s.decoded} frames, ${s.predicted} predicted, ${s.dropped} dropped`),
            (err: Error) => out.warn(`live source ${flags.watch} stopped: ${err.message}`),
          );
          stops.push(async () => {
            frames.stop();
            await running;
            await frames.closed();
          });
        }
        const waits: Promise<unknown>[] = [];
        if (http) {
          const { HttpService } = await import('../../http/server.js');
          const { loadToken } = await import('../../http/token.js');
          const token = loadToken(flags.tokenFile ?? join(flags.store, 'http-token'));
          if (token.tightened) out.warn(`token file ${token.file} could be read by other users; its mode is now 0600`);
          const service = new HttpService(engram, {
            host: http.host,
            port: http.port,
            token: token.value,
            maxBodyBytes,
            rate,
            maxConcurrent,
            live,
            log: (l) => out.warn(l),
          });
          const addr = await service.listen();
          stops.unshift(() => service.close());
          const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          const url = `http://${host}:${addr.port}/`;
          out.result(
            {
              event: 'listening',
              http: url,
              store: flags.store,
              token_file: token.file,
              ...(token.created ? { token: token.value } : {}),
              watch: flags.watch ?? null,
            },
            `serving ${url} (store ${flags.store})` +
              (token.created
                ? `\ntoken for changes, shown only this once (kept in ${token.file}, mode 0600): ${token.value}\nopen ${url}#token=${token.value} to teach from the page`
                : `\ntoken for changes: in ${token.file}`),
          );
          waits.push(new Promise((done) => (cli.signal.aborted ? done(null) : cli.signal.addEventListener('abort', done, { once: true }))));
        }
        let server = null;
        if (serialWanted) {
          const { LinkServer, serveSerial } = await import('../../link/index.js');
          const info = engram.stats();
          const { liveCamera } = await import('../../live/camera.js');
          server = new LinkServer(engram, {
            camera: live ? liveCamera(engram, live) : null,
            featureDim: engram.quantizer.dim,
            images: info.backbone !== null,
            input: engram.input,
            device: profile?.id ?? '',
            ...(allow ? { allow } : {}),
            key,
            idleTimeoutMs,
            log: (line) => out.info(line),
          });
          const serial = profile && !flags.serial ? { ...profile.serial, baudRate } : { path: path!, baudRate };
          waits.push(
            serveSerial(server, serial, {
              signal: cli.signal,
              status: (line) => out.info(line),
              onOpen: (reopened) =>
                out.result(
                  { event: reopened ? 'reconnected' : 'listening', serial: path, baud: baudRate, store: flags.store },
                  reopened ? `reconnected to ${path}` : `listening on ${path} at ${baudRate} baud (store ${flags.store})`,
                ),
            }),
          );
        }
        await Promise.all(waits);
        if (server)
          out.result(
            { event: 'stopped', ...server.counters },
            `stopped: ${server.counters.acks} requests answered, ${server.counters.errors} errors`,
          );
        else out.result({ event: 'stopped' }, 'stopped');
      } finally {
        for (const stop of stops) await stop().catch(() => {});
        await engram.close();
      }
      return 0;
    }),
  );
}

/** "8080", ":8080", "0.0.0.0:8080", "[::1]:8080" -> host (default 127.0.0.1) and port. */
function hostPort(v: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--http: expected [host:]port (e.g. 8080, 127.0.0.1:8080, [::1]:8080), got "${v}"`);
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port: Number(m[2]) };
}
