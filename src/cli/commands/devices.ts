// engram devices: the board profiles, which one matches this machine and why, and what it would run.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

interface DevicesFlags {
  profile?: string;
  root?: string;
  arch?: string;
}

export default function register(program: Command, cli: CliContext): void {
  program
    .command('devices')
    .description('list device profiles, show which one matches this board and why')
    .option('--profile <id>', 'use this profile instead of the detected one')
    .option('--root <dir>', 'read /proc and /sys under this directory (to check detection on a copied tree)')
    .option('--arch <arch>', 'assume this CPU architecture (Node names: arm, arm64, x64)')
    .addHelpText(
      'after',
      `
Examples:
  engram devices                       # detect this board
  engram devices --profile raspberry-pi-5 --json
  engram devices --root ./pi-tree --arch arm64`,
    )
    .action(
      cli.action(async (flags: DevicesFlags) => {
        const { loadProfiles, resolveProfile, planProviders, supportedBackends } = await import('../../devices/index.js');
        if (flags.arch !== undefined && !/^[a-z0-9_]+$/.test(flags.arch))
          throw new UsageError(`--arch: expected a Node architecture name such as arm64 or x64, got "${flags.arch}"`);
        const profiles = loadProfiles();
        const resolved = resolveProfile({ profiles, profile: flags.profile, root: flags.root, arch: flags.arch });
        const { detection, profile, source } = resolved;
        const { backends, reason } = await supportedBackends();
        const providers = profile && backends ? planProviders(profile, backends) : null;
        const out = cli.output;

        const f = detection.facts;
        const lines: string[] = [];
        lines.push(
          `board: arch ${f.arch}, model ${f.model ? `"${f.model}" (${f.modelSource})` : '(none found)'}, compatible ${f.compatible.length ? f.compatible.join(' ') : '(none)'}`,
        );
        if (profile) {
          const why = source === 'override' ? 'chosen with --profile' : detection.reasons.join('; ');
          lines.push(`profile: ${profile.id} (${source}): ${why}`);
          if (source === 'override' && detection.profile && detection.profile.id !== profile.id) {
            lines.push(`  (detection would pick ${detection.profile.id})`);
          }
          const s = profile.serial;
          lines.push(
            `  threads ${profile.threads}, memory budget ${formatBytes(profile.memoryBudgetBytes)} compressed (learn prunes back to it), backbone ${profile.backbone} (for new stores)`,
          );
          lines.push(
            `  serial ${s.path} at ${s.baudRate} baud, ${s.dataBits ?? 8}${(s.parity ?? 'none')[0].toUpperCase()}${s.stopBits ?? 1}${s.rtscts ? ', RTS/CTS' : ''}`,
          );
          if (providers) for (const p of providers) lines.push(`  provider ${p.provider}: ${p.status} (${p.why})`);
          else lines.push(`  providers ${profile.executionProviders.join(' > ')} (onnxruntime-node not loadable here: ${reason})`);
          for (const n of profile.notes ?? []) lines.push(`  note: ${n}`);
        } else {
          lines.push(`profile: none: ${detection.reasons.join('; ')}`);
        }
        const images = await imageDecoding();
        lines.push(`images: JPEG ${images.fastJpeg ? `decoded by ${images.jpegDecoder} (fast path)` : `decoded by sharp (${images.why})`}`);
        for (const w of detection.warnings) lines.push(`warning: ${w}`);
        lines.push('profiles:');
        const width = Math.max(...profiles.map((p) => p.id.length));
        for (const c of detection.candidates) {
          const p = profiles.find((x) => x.id === c.id)!;
          const mark = profile?.id === c.id ? '*' : ' ';
          const verdict = c.matched
            ? `matches (score ${c.score})`
            : `no: ${c.reasons.find((r) => / not | none | no /.test(` ${r} `)) ?? c.reasons[0]}`;
          lines.push(` ${mark} ${c.id.padEnd(width)}  ${p.name}: ${verdict}`);
        }

        out.result(
          {
            profile: profile?.id ?? null,
            source,
            reasons: source === 'override' ? ['chosen with --profile'] : detection.reasons,
            detected: detection.profile?.id ?? null,
            warnings: detection.warnings,
            facts: f,
            settings: profile ? stripSchema(profile) : null,
            providers,
            images,
            profiles: detection.candidates.map((c) => ({ ...c, name: profiles.find((p) => p.id === c.id)!.name })),
          },
          lines.join('\n'),
        );
        return 0;
      }),
    );
}

function stripSchema(p: object): object {
  const { $schema: _ignored, ...rest } = p as Record<string, unknown>;
  return rest;
}

function formatBytes(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  return `${n} bytes`;
}

/** Which decoder this build uses for JPEG files, and how to get the fast one when it is missing. */
async function imageDecoding(): Promise<{ fastJpeg: boolean; jpegDecoder: string; why: string }> {
  const { loadBinding } = await import('../../native/loader.js');
  try {
    const j = loadBinding().jpeg();
    if (j.available && j.version) return { fastJpeg: true, jpegDecoder: j.version, why: 'the addon was built with libjpeg' };
    return {
      fastJpeg: false,
      jpegDecoder: 'sharp',
      why: 'the addon was built without libjpeg: apt-get install libjpeg-dev, then npm run build:native',
    };
  } catch (err) {
    return { fastJpeg: false, jpegDecoder: 'sharp', why: `the addon does not load: ${(err as Error).message.split('\n')[0]}` };
  }
}
