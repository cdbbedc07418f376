// One logger for every command. Results go to stdout (one JSON object per line with --json);
// messages and progress go to stderr and stay silent with --quiet, --json or when stderr is not a TTY.
import cliProgress from 'cli-progress';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  /** Whether stderr is an interactive terminal (progress bars only then). */
  tty?: boolean;
}

export interface Progress {
  tick(n?: number, label?: string): void;
  /** Whether a bar is drawn (interactive stderr): then per-item notes belong in the bar's label instead. */
  readonly active: boolean;
  stop(): void;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  private readonly tty: boolean;

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.tty = opts.tty ?? Boolean(process.stderr.isTTY);
  }

  /** A result: a JSON line with --json, otherwise the human text (or the object, formatted). */
  result(obj: Record<string, unknown>, human?: string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(obj)}\n`);
    else process.stdout.write(`${human ?? formatObject(obj)}\n`);
  }

  /** Human text on stdout that has no JSON form (tables); suppressed with --json. */
  text(line: string): void {
    if (!this.json) process.stdout.write(`${line}\n`);
  }

  /** A note for the person at the terminal (stderr); silent with --quiet or --json. */
  info(msg: string): void {
    if (!this.quiet && !this.json) process.stderr.write(`${msg}\n`);
  }

  /** A warning (stderr), shown unless --quiet. */
  warn(msg: string): void {
    if (!this.quiet) process.stderr.write(`warning: ${msg}\n`);
  }

  /** An error (stderr); with --json also a line on stdout, carrying `fields` such as the `file` it concerns. */
  error(msg: string, fields: Record<string, unknown> = {}): void {
    if (this.json) process.stdout.write(`${JSON.stringify({ ...fields, error: msg })}\n`);
    process.stderr.write(`engram: ${msg}\n`);
  }

  /** A progress bar on stderr when interactive; a no-op otherwise. */
  progress(total: number, label: string): Progress {
    if (this.json || this.quiet || !this.tty || total <= 1) return { tick() {}, active: false, stop() {} };
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} {eta_formatted} {item}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { item: '' });
    return {
      tick: (n = 1, item = '') => bar.increment(n, { item }),
      active: true,
      stop: () => bar.stop(),
    };
  }
}

function formatObject(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .map(
      ([k, v]) =>
        `${k}: ${typeof v === 'object' || typeof v === 'function' ? JSON.stringify(v) : String(v as string | number | boolean | bigint | symbol | undefined)}`,
    )
    .join('\n');
}

/** "1 class", "3 classes": a count and its noun, singular for exactly one. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
