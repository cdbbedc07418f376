// Every committed fuzz input, replayed: the seed corpora and each input that once crashed a target
// (fuzz/regressions/<target>/). JavaScript targets run here; the libFuzzer targets run through their
// sanitizer builds (tools/fuzz.mjs --replay) where clang with libFuzzer is installed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../src/native/loader.js';
import { TARGETS } from '../fuzz/js/targets.js';

const inputs = (target: string) =>
  ['corpus', 'regressions'].flatMap((d) => {
    const dir = join(packageRoot, 'fuzz', d, target);
    return existsSync(dir) ? readdirSync(dir).map((f) => ({ file: `${d}/${target}/${f}`, bytes: readFileSync(join(dir, f)) })) : [];
  });

const js = suite('JavaScript fuzz targets: committed inputs');

for (const target of TARGETS) {
  js(`${target.name}: every committed input is handled as documented`, () => {
    const all = inputs(target.name);
    assert.ok(all.length > 0, `fuzz/corpus/${target.name} holds seeds`);
    for (const { file, bytes } of all) {
      try {
        target.run(bytes);
      } catch (err) {
        assert.unreachable(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  });
}

const native = suite('libFuzzer targets: committed inputs under ASan and UBSan');

const clang = spawnSync('clang++', ['--version']).status === 0;
if (!clang) console.log('SKIP 93.fuzz-replay libFuzzer targets: clang++ is not installed (apt-get install clang libclang-rt-14-dev)');
else {
  native('native-jpeg, native-resample and native-memory replay their corpus and regressions cleanly', () => {
    const r = spawnSync(process.execPath, [join(packageRoot, 'tools', 'fuzz.mjs'), '--replay', '--only', '^native-'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.is(r.status, 0, r.stderr.slice(-3000));
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"target"'))
      .map((l) => JSON.parse(l) as { target: string; executions: number; crashes: number });
    assert.equal(lines.map((l) => l.target).sort(), ['native-jpeg', 'native-memory', 'native-resample']);
    for (const l of lines) {
      assert.is(l.crashes, 0, l.target);
      assert.is(l.executions, inputs(l.target).length, `${l.target}: every committed input ran`);
    }
  });
}

js.run();
native.run();
