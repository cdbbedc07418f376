// Runs the JavaScript fuzz targets (fuzz/js/targets.ts): node dist/fuzz/js/run.js [--seconds N] [--only regex]
// [--seed N] [--replay]. One JSON line per target on stdout; a crash writes its input to build/fuzz/artifacts/
// and exits 1. --replay runs the committed corpus and regressions once (what test 93 does).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/loader.js';
import { Coverage, Crash, fuzz } from './engine.js';
import { TARGETS } from './targets.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const seconds = Number(arg('--seconds') ?? 20);
const only = arg('--only') ? new RegExp(arg('--only')!) : null;
const seed = Number(arg('--seed') ?? Date.now() % 1_000_000);
const replay = process.argv.includes('--replay');
const out = join(packageRoot, 'build', 'fuzz');

const filesIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .sort()
        .map((f) => readFileSync(join(dir, f)))
    : [];
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

let failed = false;
const coverage = new Coverage();
for (const target of TARGETS) {
  if (only && !only.test(target.name)) continue;
  const seedDir = join(packageRoot, 'fuzz', 'corpus', target.name);
  if (!existsSync(seedDir)) {
    mkdirSync(seedDir, { recursive: true });
    for (const [i, s] of (await target.seeds()).entries()) writeFileSync(join(seedDir, `seed-${i}`), s);
  }
  const committed = [...filesIn(seedDir), ...filesIn(join(packageRoot, 'fuzz', 'regressions', target.name))];
  const workDir = join(out, 'corpus', target.name);
  mkdirSync(workDir, { recursive: true });
  mkdirSync(join(out, 'artifacts'), { recursive: true });
  try {
    if (replay) {
      for (const input of committed) {
        try {
          target.run(input);
        } catch (err) {
          throw new Crash(target.name, input, err);
        }
      }
      console.log(JSON.stringify({ target: target.name, replayed: committed.length, crashes: 0 }));
      continue;
    }
    const stats = fuzz(
      target,
      [...committed, ...filesIn(workDir)],
      seconds,
      seed,
      (input) => writeFileSync(join(workDir, sha1(input)), input),
      coverage,
    );
    console.log(JSON.stringify(stats));
  } catch (err) {
    if (!(err instanceof Crash)) throw err;
    failed = true;
    const file = join(out, 'artifacts', `${target.name}-crash-${sha1(err.input)}`);
    writeFileSync(file, err.input);
    process.stderr.write(
      `fuzz: ${err.message}\n  input: ${file} (${err.input.length} bytes; seed ${seed})\n${err.cause instanceof Error ? err.cause.stack : ''}\n`,
    );
    console.log(JSON.stringify({ target: target.name, seed, crashes: 1, artifact: file }));
  }
}
coverage.close();
process.exit(failed ? 1 : 0);
