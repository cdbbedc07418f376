// assert.rejects for uvu: fails when the promise resolves, and when the error message does not match.
import * as assert from 'uvu/assert';

export async function rejects(work: Promise<unknown> | (() => Promise<unknown>), message: RegExp): Promise<Error> {
  let error: unknown;
  let threw = false;
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    threw = true;
    error = err;
  }
  assert.ok(threw, `expected a rejection matching ${message}, but it resolved`);
  assert.instance(error, Error);
  assert.match((error as Error).message, message);
  return error as Error;
}
