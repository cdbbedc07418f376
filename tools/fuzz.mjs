#!/usr/bin/env node
// Coverage-guided fuzzing of every parser, for a bounded time (npm run fuzz; .ci/run runs it).
//   native targets (fuzz/native/*.cc): libFuzzer with AddressSanitizer and UBSan, built by Debian's clang
//   JavaScript targets (fuzz/js/targets.ts): engram's own coverage-guided loop on V8 block coverage
// Usage: node tools/fuzz.mjs [--seconds N per target] [--only regex] [--replay] [--out results.json]
//   --replay runs only the committed corpus and regression inputs once (what a test does).
// Each target starts from its committed seeds (fuzz/corpus/<target>/) and regressions (fuzz/regressions/<target>/);
// new inputs go to build/fuzz/corpus/<target>/, crashes to build/fuzz/artifacts/. Prints one JSON line per
// target (executions, coverage, crashes) and exits 1 when anything crashed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const seconds = Number(arg('--seconds', '20'));
const only = arg('--only') ? new RegExp(arg('--only')) : null;
const replay = process.argv.includes('--replay');
const jsonOut = arg('--out');
const out = join(root, 'build', 'fuzz');
mkdirSync(join(out, 'artifacts'), { recursive: true });

const NATIVE = {
  'native-jpeg': { file: 'fuzz_jpeg.cc', jpeg: true },
  'native-resample': { file: 'fuzz_resample.cc' },
  'native-memory': { file: 'fuzz_memory.cc' },
};

function sources(dir) {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.cc'))
    .map((f) => join(root, dir, f));
}

function build(name, spec) {
  const bin = join(out, name);
  const inputs = [join(root, 'fuzz', 'native', spec.file), ...sources('native/core'), ...(spec.jpeg ? sources('native/image') : [])];
  if (existsSync(bin) && inputs.every((f) => statSync(f).mtimeMs < statSync(bin).mtimeMs)) return bin;
  const args = [
    '-std=c++17',
    '-O1',
    '-g',
    '-fno-omit-frame-pointer',
    '-fsanitize=fuzzer,address,undefined',
    '-fno-sanitize-recover=all',
    '-ffp-contract=off',
    `-I${join(root, 'native', 'core')}`,
    `-I${join(root, 'native', 'image')}`,
    ...inputs,
    ...(spec.jpeg ? ['-ljpeg'] : []),
    '-o',
    bin,
  ];
  const r = spawnSync('clang++', args, { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(`fuzz: cannot build ${name} with clang++ (apt-get install clang libclang-rt-14-dev${spec.jpeg ? ' libjpeg-dev' : ''})`);
    return null;
  }
  return bin;
}

/** Committed inputs of a target: its seed corpus and its regressions (each a crash once found). */
function committed(name) {
  return ['corpus', 'regressions'].map((d) => join(root, 'fuzz', d, name)).filter((d) => existsSync(d));
}

const TARGET_NAMES_JS = ['js-png', 'js-store-records', 'js-link-frames', 'js-codebook', 'js-manifest', 'js-profile'];
const results = [];
let failed = false;

for (const [name, spec] of Object.entries(NATIVE)) {
  if (only && !only.test(name)) continue;
  const bin = build(name, spec);
  if (!bin) {
    failed = true;
    results.push({ target: name, error: 'build failed' });
    continue;
  }
  const work = join(out, 'corpus', name);
  mkdirSync(work, { recursive: true });
  const dirs = committed(name);
  const files = dirs.flatMap((d) => readdirSync(d).map((f) => join(d, f)));
  const args = replay
    ? files
    : [
        work,
        ...dirs,
        `-max_total_time=${seconds}`,
        '-timeout=10',
        '-rss_limit_mb=2048',
        '-print_final_stats=1',
        `-artifact_prefix=${join(out, 'artifacts', `${name}-`)}`,
      ];
  if (replay && files.length === 0) continue;
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const log = `${r.stdout}${r.stderr}`;
  const last = [...log.matchAll(/cov: (\d+) ft: (\d+) corp: (\d+)/g)].pop();
  const execs = log.match(/stat::number_of_executed_units: (\d+)/);
  const crashed = r.status !== 0;
  if (crashed) {
    failed = true;
    process.stderr.write(log.split('\n').slice(-60).join('\n'));
  }
  results.push({
    target: name,
    engine: 'libFuzzer (clang, ASan+UBSan)',
    seconds: replay ? 0 : seconds,
    executions: execs ? Number(execs[1]) : files.length,
    edges: last ? Number(last[1]) : null,
    features: last ? Number(last[2]) : null,
    corpus: last ? Number(last[3]) : null,
    crashes: crashed ? 1 : 0,
  });
}

if (!only || TARGET_NAMES_JS.some((n) => only.test(n))) {
  const js = join(root, 'dist', 'fuzz', 'js', 'run.js');
  if (!existsSync(js)) {
    console.error('fuzz: dist/fuzz/js/run.js is missing: run "npx tsc -p tsconfig.json" first');
    failed = true;
  } else {
    const r = spawnSync(
      process.execPath,
      [js, '--seconds', String(seconds), ...(only ? ['--only', only.source] : []), ...(replay ? ['--replay'] : [])],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
    );
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) results.push(JSON.parse(line));
    if (r.status !== 0) failed = true;
  }
}

for (const x of results) console.log(JSON.stringify(x));
const crashes = results.reduce((n, x) => n + (x.crashes ?? 0), 0);
const summary = { targets: results.length, executions: results.reduce((n, x) => n + (x.executions ?? 0), 0), crashes, ok: !failed };
if (jsonOut) {
  const { writeFileSync } = await import('node:fs');
  const { cpus } = await import('node:os');
  writeFileSync(
    jsonOut,
    `${JSON.stringify({ date: new Date().toISOString(), machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`, results, summary }, null, 2)}\n`,
  );
}
console.log(JSON.stringify(summary));
process.exit(failed ? 1 : 0);
