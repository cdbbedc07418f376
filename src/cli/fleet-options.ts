// The fleet flags `engram sync` and `engram serve --fleet` share (docs/fleet.md): which broker and fleet, the
// allow-list, the broker's credentials and TLS files; turned into runSync's options, and its events into lines.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { SyncOptions } from '../fleet/sync.js';
import { InputError, UsageError } from './errors.js';
import type { Output } from './output.js';

export interface FleetFlags {
  broker?: string;
  fleet?: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * Adds the fleet flags. `allow` names the allow-list flag: `--allow` for sync, `--fleet-allow` for serve, whose
 * `--allow` already lists the requests it answers.
 */
export function fleetOptions(cmd: Command, allow: '--allow' | '--fleet-allow', fleetHelp: string): Command {
  // serve lists its own flags first: there its fleet flags say what they are for.
  const f = allow === '--fleet-allow' ? 'fleet: ' : '';
  return cmd
    .option('--fleet <name>', fleetHelp)
    .option('--broker <url>', `${f}mqtt://host:port, or mqtts://host:port for TLS`)
    .option(`${allow} <file>`, `${f}the fleet's allow-list: one base64 Ed25519 public key per line (engram sync --print-key), then a name`)
    .option('--username <name>', `${f}broker user name`)
    .option('--password-file <file>', `${f}file holding the broker password (not on the command line, where ps shows it)`)
    .option('--ca <file>', `${f}TLS: CA certificate of the broker`)
    .option('--cert <file>', `${f}TLS: client certificate, for a broker that requires one (with --key)`)
    .option('--key <file>', `${f}TLS: private key of the client certificate`);
}

/** Whether any fleet flag was given (serve: then --fleet, --broker and the allow-list are all needed). */
export function anyFleetFlag(flags: FleetFlags & { fleetAllow?: string }): boolean {
  return [flags.broker, flags.fleet, flags.fleetAllow, flags.username, flags.passwordFile, flags.ca, flags.cert, flags.key].some(
    (v) => v !== undefined,
  );
}

/** Checks the fleet flags and reads the files they name: runSync's options but the store and the mode. */
export async function fleetSyncOptions(
  flags: FleetFlags,
  allowFile: string | undefined,
  allowFlag: '--allow' | '--fleet-allow',
  command: string,
  out: Output,
  signal: AbortSignal,
): Promise<Omit<SyncOptions, 'store' | 'readOnly' | 'intervalMs'>> {
  const given: [string, string | undefined][] = [
    ['--broker', flags.broker],
    ['--fleet', flags.fleet],
    [allowFlag, allowFile],
  ];
  for (const [k, v] of given) if (!v) throw new UsageError(`${k} is required (see engram ${command} --help)`);
  if (!/^mqtts?:\/\//.test(flags.broker!))
    throw new UsageError(`--broker: expected mqtt://host:port or mqtts://host:port, got ${JSON.stringify(flags.broker)}`);
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw new UsageError(`${flags.cert === undefined ? '--key' : '--cert'}: a client certificate needs both --cert and --key`);
  if ((flags.cert || flags.ca) && !flags.broker!.startsWith('mqtts://'))
    throw new UsageError(`${flags.cert ? '--cert' : '--ca'}: TLS files need a TLS broker URL (mqtts://host:port), got ${flags.broker}`);
  const { readAllowList } = await import('../fleet/sign.js');
  let allow;
  let password;
  try {
    allow = readAllowList(allowFile!);
    password = flags.passwordFile === undefined ? undefined : readFileSync(flags.passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  for (const [k, f] of [
    ['--ca', flags.ca],
    ['--cert', flags.cert],
    ['--key', flags.key],
  ] as const) {
    try {
      if (f !== undefined) readFileSync(f);
    } catch (err) {
      throw new InputError(`${k}: cannot read ${f} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return {
    broker: flags.broker!,
    fleet: flags.fleet!,
    allow,
    username: flags.username,
    password,
    ca: flags.ca,
    cert: flags.cert,
    key: flags.key,
    signal,
    onWarning: (m) => out.warn(m),
    onEvent: (e) => {
      // A refused message is always logged (stderr), and is an event line with --json like the others.
      if (e.event === 'refused') {
        out.warn(`refused a message on ${e.topic}: ${e.why}`);
        if (out.json) out.result({ ...e });
        return;
      }
      const human =
        e.event === 'ready'
          ? `device ${e.origin} (memory space ${e.space}): ${e.classes.length} classes`
          : e.event === 'applied'
            ? `applied a change from ${e.from}: ${e.labels.join(', ') || 'calibration'}`
            : e.event === 'published'
              ? `published ${e.kind} (${e.bytes} bytes): ${e.labels.join(', ') || 'calibration'}`
              : e.event;
      out.result({ ...e }, human);
    },
  };
}
