// Exit codes shared by every command: 0 ok, 1 usage error, 2 input error, 130 interrupted.
export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_INPUT = 2;
export const EXIT_INTERRUPTED = 130;

/** The command line itself is wrong (unknown option, missing argument, bad value). */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
  override name = 'UsageError';
}

/** The command line is fine but an input (file, store, model, port) is not. */
export class InputError extends Error {
  readonly exitCode = EXIT_INPUT;
  override name = 'InputError';
}

/** Maps any thrown value to an exit code: our errors carry one; validation errors from the API are input errors. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof InputError) return err.exitCode;
  return EXIT_INPUT;
}
