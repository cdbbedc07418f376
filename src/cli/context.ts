// What every command receives: the output, an abort signal raised by SIGINT/SIGTERM,
// and `action`, which wraps a handler so that errors map to exit codes in one place.
import { Output } from './output.js';
import { EXIT_INTERRUPTED, exitCodeOf } from './errors.js';

export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
}

export class CliContext {
  readonly abort = new AbortController();
  private out?: Output;

  constructor(private readonly globals: () => GlobalOptions) {}

  /** The logger for this invocation (created after option parsing). */
  get output(): Output {
    this.out ??= new Output(this.globals());
    return this.out;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /**
   * Wraps a command handler: it returns an exit code (or nothing for 0); thrown errors are
   * reported once and mapped to 1 (usage) or 2 (input). An interrupted run exits 130.
   */
  action<A extends unknown[]>(handler: (...args: A) => Promise<number | void> | number | void) {
    return async (...args: A): Promise<void> => {
      try {
        const code = (await handler(...args)) ?? 0;
        process.exitCode = this.signal.aborted ? EXIT_INTERRUPTED : code;
      } catch (err) {
        if (this.signal.aborted) {
          process.exitCode = EXIT_INTERRUPTED;
          return;
        }
        this.output.error(err instanceof Error ? err.message : String(err));
        if (process.env.ENGRAM_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
        process.exitCode = exitCodeOf(err);
      }
    };
  }
}
