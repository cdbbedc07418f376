// The demo's own figures, as README and docs/cli.md quote them: runs `engram demo --json` as a user would
// (defaults: ten MNIST digits, 20 examples each, the embedded backbone) and writes its last JSON line, with the
// machine it ran on, to bench/results/demo.json. `npm run docs:numbers` then rewrites the quoted figures.
//
// Usage: node dist/bench/demo.js [--no-write] [-- demo options...]
// Prints the JSON object as the last line of stdout.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../src/version.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const write = !argv.includes('--no-write');
const extra = argv.includes('--') ? argv.slice(argv.indexOf('--') + 1) : [];

const started = Date.now();
const r = spawnSync(process.execPath, [join(root, 'bin', 'engram.js'), 'demo', '--json', ...extra], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (r.status !== 0) {
  console.error(`bench:demo: engram demo exited ${r.status}`);
  process.exit(1);
}
const last = r.stdout.trim().split('\n').pop() ?? '';
const demo = JSON.parse(last) as Record<string, unknown>;
const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
const result = {
  ...demo,
  wall_seconds: Math.round((Date.now() - started) / 100) / 10,
  options: extra,
  machine: {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    loadavg: loadavg().map((x) => Math.round(x * 10) / 10),
    node: process.version,
    arch: process.arch,
    engram: VERSION,
    commit: git.status === 0 ? git.stdout.trim() : null,
  },
  date: new Date().toISOString(),
};
if (write && extra.length === 0) writeFileSync(join(root, 'bench', 'results', 'demo.json'), `${JSON.stringify(result, null, 2)}\n`);
else if (write) console.error("bench:demo: demo options given, so bench/results/demo.json (the defaults' figures) is left as it is");
console.log(JSON.stringify(result));
