// engram sync: keep a store in sync with a fleet of devices through an MQTT broker, until interrupted.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { fleetOptions, fleetSyncOptions, type FleetFlags } from '../fleet-options.js';
import { wholeNumber } from '../numbers.js';

interface SyncFlags extends FleetFlags {
  store: string;
  allow?: string;
  readOnly: boolean;
  interval: string;
  printKey: boolean;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('sync')
    .description('share what this store learns and forgets with a fleet of devices through an MQTT broker')
    .requiredOption('-s, --store <dir>', 'store directory (it joins the fleet: a fleet/ folder and a device key are made)');
  fleetOptions(cmd, '--allow', 'fleet name: devices of one fleet share memories (topics engram/<name>/...)')
    .option('--read-only', "apply the fleet's changes, publish nothing", false)
    .option('--interval <ms>', 'how often local learns and forgets are looked for', '500')
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
        const interval = wholeNumber('--interval', flags.interval, { min: 20, max: 60_000, unit: 'milliseconds' });
        const fleet = await fleetSyncOptions(flags, flags.allow, '--allow', 'sync', out, cli.signal);
        const { runSync } = await import('../../fleet/sync.js');
        await runSync({ ...fleet, store: flags.store, readOnly: flags.readOnly, intervalMs: interval });
      }),
    );
}
