// The CLI root: global options, then one command per file in ./commands (each default-exports
// `register(program, cli)`). Heavy modules are imported inside command actions, so `--help` stays fast.
import { Command, CommanderError } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CliContext } from './context.js';
import { EXIT_INTERRUPTED, EXIT_USAGE } from './errors.js';
import { VERSION } from '../version.js';

export type RegisterCommand = (program: Command, cli: CliContext) => void;

/** The whole command tree: the root's options and every command file's registration (also read by docs:cli). */
export async function buildProgram(cli: CliContext, program: Command = new Command('engram')): Promise<Command> {
  program
    .description('On-device continual learning: teach a device new image classes from a few examples, offline.')
    .version(VERSION)
    .option('--json', 'print one JSON object per line on stdout', false)
    .option('-q, --quiet', 'no progress or notes on stderr', false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.js')).sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: RegisterCommand };
    if (typeof mod.default === 'function') mod.default(program, cli);
  }
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('engram');
  const cli = new CliContext(() => program.opts<{ json: boolean; quiet: boolean }>());
  await buildProgram(cli, program);
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    cli.abort.abort();
    if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
