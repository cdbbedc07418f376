// engram sync: keep a store in sync with a fleet of devices through an MQTT broker, until interrupted.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { wholeNumber } from '../numbers.js';

interface SyncFlags {
  store: string;
  broker?: string;
  fleet?: string;
  allow?: string;
  readOnly: boolean;
  interval: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
  printKey: boolean;
}

export default function register(program: Command, cli: CliContext): void {
  program
    .command('sync')
    .description('share what this store learns and forgets with a fleet of devices through an MQTT broker')
    .requiredOption('-s, --store <dir>', 'store directory (it joins the fleet: a fleet/ folder and a device key are made)')
    .option('--broker <url>', 'mqtt://host:port, or mqtts://host:port for TLS')
    .option('--fleet <name>', 'fleet name: devices of one fleet share memories (topics engram/<name>/...)')
    .option('--allow <file>', "the fleet's allow-list: one base64 Ed25519 public key per line (engram sync --print-key), then a name")
    .option('--read-only', "apply the fleet's changes, publish nothing", false)
    .option('--interval <ms>', 'how often local learns and forgets are looked for', '500')
    .option('--username <name>', 'broker user name')
    .option('--password-file <file>', 'file holding the broker password (not on the command line, where ps shows it)')
    .option('--ca <file>', 'TLS: CA certificate of the broker')
    .option('--cert <file>', 'TLS: client certificate')
    .option('--key <file>', 'TLS: client private key')
    .option('--print-key', "print this device's allow-list line and exit", false)
    .addHelpText(
      'after',
      '\nEvery message is signed with the device key kept in <store>/fleet; a message not signed by a key on the\nallow-list is refused and logged, never applied. A received change is acknowledged (QoS 1) once it is on disk.\nLearn and forget with the usual commands while sync runs; it picks them up. See docs/fleet.md.',
    )
    .action(
      cli.action(async (flags: SyncFlags) => {
        const out = cli.output;
        if (flags.printKey) {
          const { FleetDevice } = await import('../../fleet/device.js');
          const { allowLine } = await import('../../fleet/sign.js');
          const device = await FleetDevice.open(flags.store, { onWarning: (m) => out.warn(m) });
          try {
            out.result({ key: device.key.publicRaw.toString('base64'), origin: device.origin }, allowLine(device.key, device.origin));
          } finally {
            await device.close();
          }
          return;
        }
        for (const k of ['broker', 'fleet', 'allow'] as const)
          if (!flags[k]) throw new UsageError(`--${k} is required (see engram sync --help)`);
        if (!/^mqtts?:\/\//.test(flags.broker!))
          throw new UsageError(`--broker: expected mqtt://host:port or mqtts://host:port, got ${JSON.stringify(flags.broker)}`);
        const interval = wholeNumber('--interval', flags.interval, { min: 20, max: 60_000, unit: 'milliseconds' });
        const { readAllowList } = await import('../../fleet/sign.js');
        const { runSync } = await import('../../fleet/sync.js');
        let allow;
        let password;
        try {
          allow = readAllowList(flags.allow!);
          password = flags.passwordFile === undefined ? undefined : readFileSync(flags.passwordFile, 'utf8').replace(/\r?\n$/, '');
        } catch (err) {
          throw new InputError((err as Error).message);
        }
        await runSync({
          store: flags.store,
          broker: flags.broker!,
          fleet: flags.fleet!,
          allow,
          readOnly: flags.readOnly,
          intervalMs: interval,
          username: flags.username,
          password,
          ca: flags.ca,
          cert: flags.cert,
          key: flags.key,
          signal: cli.signal,
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
                ? `device ${e.origin}: ${e.classes.length} classes`
                : e.event === 'applied'
                  ? `applied a change from ${e.from}: ${e.labels.join(', ') || 'calibration'}`
                  : e.event === 'published'
                    ? `published ${e.kind} (${e.bytes} bytes): ${e.labels.join(', ') || 'calibration'}`
                    : e.event;
            out.result({ ...e }, human);
          },
        });
      }),
    );
}
