// `engram models list|pull`: the model catalogue. Pulls show progress, resume, verify sha256 and place
// files atomically; `--from` takes the bytes from a local file or a mirror for offline boards.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

interface DirFlags {
  dir?: string;
  catalogue?: string;
}

function humanBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

export default function register(program: Command, cli: CliContext): void {
  const models = program.command('models').description('the model catalogue: list backbones, pull one by name');
  const common = (cmd: Command) =>
    cmd
      .option('--dir <folder>', 'models folder (default: $ENGRAM_MODELS_DIR or ~/.cache/engram/models)')
      .option('--catalogue <file>', 'catalogue file (default: the one shipped in the package)');

  common(models.command('list').description('backbones engram knows, whether each is ready, and its manifest')).action(
    cli.action(async (f: DirFlags) => {
      const { listModels, loadCatalogue, defaultModelsDir } = await import('../../backbone/catalogue.js');
      const rows = listModels(f.catalogue ? loadCatalogue(f.catalogue) : loadCatalogue(), f.dir ?? defaultModelsDir());
      if (cli.output.json) {
        for (const r of rows) cli.output.result({ ...r });
        return 0;
      }
      for (const r of rows) {
        const state =
          r.kind === 'builtin'
            ? r.installed
              ? 'built in'
              : 'built in (missing from this package)'
            : r.installed
              ? 'pulled'
              : 'not pulled';
        const size = r.size ? `, ${humanBytes(r.size)}` : '';
        cli.output.text(
          `${r.name}\t${state}${size}${r.license ? `, ${r.license}` : ''}\n  ${r.description}${r.manifest ? `\n  manifest: ${r.manifest}` : ''}`,
        );
      }
      return 0;
    }),
  );

  common(models.command('pull <name>').description('download (or copy with --from), verify and install a catalogue model'))
    .option('--from <file-or-url>', 'take the bytes from a local file or a mirror URL instead of the official URL')
    .action(
      cli.action(async (name: string, f: DirFlags & { from?: string }) => {
        const { pullModel } = await import('../../backbone/pull.js');
        const { loadCatalogue } = await import('../../backbone/catalogue.js');
        let bar: ReturnType<typeof cli.output.progress> | undefined;
        let shown = 0;
        const r = await pullModel(name, {
          ...(f.dir !== undefined ? { dir: f.dir } : {}),
          ...(f.from !== undefined ? { from: f.from } : {}),
          ...(f.catalogue !== undefined ? { catalogue: loadCatalogue(f.catalogue) } : {}),
          signal: cli.signal,
          log: (line) => cli.output.info(line),
          onProgress: (received, total) => {
            bar ??= cli.output.progress(total, name);
            if (received > shown) bar.tick(received - shown);
            shown = received;
          },
        }).finally(() => bar?.stop());
        const human =
          r.action === 'builtin'
            ? `${name} is built in: ${r.manifest}`
            : `${name}: ${r.action}${r.bytes ? ` (${humanBytes(r.bytes)})` : ''}, verified; manifest ${r.manifest}`;
        cli.output.result({ ...r }, human);
        return 0;
      }),
    );
}
