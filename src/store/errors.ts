// The store's one error shape: a code a caller can branch on and a message that names the store,
// the file and what to do. Validation of arguments still throws TypeError / RangeError.

export type StoreErrorCode =
  /** Another live process holds the store's lock. */
  | 'ELOCKED'
  /** The files cannot be turned into a trustworthy state (damage beyond what recovery may skip). */
  | 'ECORRUPT'
  /** A file is intact but in a format version this engram cannot read (written by a newer one). */
  | 'EVERSION'
  /** A snapshot or side file could not be written (disk full, I/O error); nothing changed, the store is usable. */
  | 'EWRITE'
  /** A write or fsync failed earlier; the store refuses further writes until it is reopened. */
  | 'EFAILED'
  /** The store was closed. */
  | 'ECLOSED'
  /** A read-only open found no store directory. */
  | 'ENOSTORE'
  /** The store was opened read-only. */
  | 'EREADONLY';

export class StoreError extends Error {
  override name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
