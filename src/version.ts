// engram's version: package.json's "version" field is the one place it is written (semver; CHANGELOG.md says
// what each release changed). Read once at load, from the package root two levels above dist/src/.
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
