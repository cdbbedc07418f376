// The package as a user without a compiler gets it: `npm pack` (prebuilt addons for linux-x64 and linux-arm64
// inside), installed into a clean folder with the C/C++ compilers, cmake, make and ninja hidden from PATH, then
// `engram learn` and `engram predict` run from that install on real image files. The prebuilds are built first
// when they are missing or older than native/ (tools/prebuild.mjs: needs cmake, g++ and g++-aarch64-linux-gnu).
// Dependencies come from npm's cache (--prefer-offline): a run after the first `npm install` fetches nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ROOT, writeDigits } from './helpers/learner-files.js';

const TARGET = `${process.platform}-${process.arch}`;
const work = mkdtempSync(join(tmpdir(), 'engram-pack-'));
const project = join(work, 'project');
const installed = join(project, 'node_modules', 'engram');

/** Tools a source build needs: none of them may be reachable in the clean install. */
const BUILD_TOOLS =
  /^(cc|c\+\+|gcc|g\+\+|cpp|clang|clang\+\+|cmake|ccmake|ctest|cpack|make|gmake|ninja|ld|ld\.\w+|as)(-\d+(\.\d+)*)?$|-(gcc|g\+\+|cc|c\+\+|ld|as)(-\d+)?$/;

/** A PATH of one folder holding links to every program on this PATH except the build tools. */
function pathWithoutCompilers(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (BUILD_TOOLS.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  return bin;
}

const run = (cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> =>
  spawnSync(cmd, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

const show = (r: SpawnSyncReturns<string>) => `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`.slice(-4000);

let tarball = '';
let cleanEnv: NodeJS.ProcessEnv = {};

const pack = suite('npm pack');

pack('the prebuilt addons match the sources (built here when they do not)', () => {
  let check = run(process.execPath, ['tools/prebuild.mjs', '--check']);
  if (check.status !== 0) {
    console.log(`83.package-install: building the prebuilds first (${check.stderr.split('\n')[0].replace(/^prebuild: /, '')})`);
    const build = run(process.execPath, ['tools/prebuild.mjs']);
    assert.is(build.status, 0, show(build));
    check = run(process.execPath, ['tools/prebuild.mjs', '--check']);
  }
  assert.is(check.status, 0, show(check));
  assert.match(check.stdout, /ok: linux-x64, linux-arm64 built from the current sources/);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'prebuilds', 'manifest.json'), 'utf8')) as {
    targets: Record<string, { machine: string; needs: string[] }>;
  };
  assert.match(manifest.targets['linux-x64'].machine, /X86-64/);
  assert.match(manifest.targets['linux-arm64'].machine, /AArch64/);
  for (const t of ['linux-x64', 'linux-arm64']) {
    assert.not.ok(
      manifest.targets[t].needs.some((lib) => /libstdc\+\+|libgcc_s/.test(lib)),
      `${t} carries its C++ runtime: ${manifest.targets[t].needs.join(', ')}`,
    );
  }
});

pack('npm pack refuses prebuilds built from other sources', () => {
  const manifest = join(ROOT, 'prebuilds', 'manifest.json');
  const saved = readFileSync(manifest, 'utf8');
  try {
    writeFileSync(manifest, saved.replace(/"sources": "[0-9a-f]+"/, `"sources": "${'0'.repeat(64)}"`));
    const r = run('npm', ['pack', '--dry-run', '--ignore-scripts=false', '--pack-destination', work]);
    assert.is.not(r.status, 0, show(r));
    assert.match(r.stderr, /prebuilt addons were built from other sources than these/);
    assert.match(r.stderr, /fix: npm run build:prebuilds/);
  } finally {
    writeFileSync(manifest, saved);
  }
});

pack('the tarball carries both prebuilds, the compiled CLI, the model and the sources for a fallback build', () => {
  const r = run('npm', ['pack', '--pack-destination', work, '--json']);
  assert.is(r.status, 0, show(r));
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info.filename);
  assert.ok(existsSync(tarball), tarball);
  const files = new Set(info.files.map((f) => f.path));
  for (const f of [
    'prebuilds/linux-x64/engram.node',
    'prebuilds/linux-arm64/engram.node',
    'prebuilds/manifest.json',
    'bin/engram.js',
    'dist/src/index.js',
    'dist/src/cli/main.js',
    'models/engram-glyph.onnx',
    'tools/install.mjs',
    'tools/prebuilds.mjs',
    'CMakeLists.txt',
    'native/core/memory.cc',
    'native/addon/addon.cc',
    'native/image/jpeg.cc',
    'package.json',
  ]) {
    assert.ok(files.has(f), `${f} is in the package`);
  }
  for (const f of files) assert.not.match(f, /^(test|dist\/test|build|bench|fuzz|native\/test)\//, `${f} should not be in the package`);
});

const install = suite('install without a compiler');

install.before(() => {
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'engram-install-check', version: '1.0.0', private: true }));
  // Only what a user's shell has: no npm_config_* of an outer `npm test`, no ENGRAM_ADDON. onnxruntime-node's own
  // install step would fetch CUDA libraries from NuGet on linux-x64 (package.json's allowScripts only covers
  // engram's own checkout): README's install section gives users the same setting.
  cleanEnv = {
    PATH: pathWithoutCompilers(),
    HOME: process.env.HOME,
    TMPDIR: tmpdir(),
    ENGRAM_MODELS_DIR: join(work, 'no-models'),
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  };
});

install('no C/C++ compiler, cmake, make or ninja is reachable on the PATH the install gets', () => {
  for (const tool of ['cc', 'c++', 'gcc', 'g++', 'clang', 'cmake', 'make', 'ninja']) {
    const r = run('sh', ['-c', `command -v ${tool}`], { env: cleanEnv });
    assert.is.not(r.status, 0, `${tool} is hidden (found ${r.stdout.trim()})`);
  }
  assert.is(run('sh', ['-c', 'command -v node && command -v npm'], { env: cleanEnv }).status, 0, 'node and npm are there');
});

install('npm install of the tarball uses the prebuilt addon and compiles nothing', () => {
  const r = run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
    cwd: project,
    env: cleanEnv,
  });
  assert.is(r.status, 0, show(r));
  assert.match(r.stdout + r.stderr, new RegExp(`engram: using the prebuilt addon prebuilds/${TARGET}/engram\\.node; nothing to compile`));
  assert.not.ok(existsSync(join(installed, 'build')), 'no build/ folder: nothing was compiled');
  const path = run(process.execPath, ['--input-type=module', '-e', `import { bindingPath } from 'engram'; console.log(bindingPath());`], {
    cwd: project,
    env: cleanEnv,
  });
  assert.is(path.status, 0, show(path));
  assert.is(path.stdout.trim(), join(installed, 'prebuilds', TARGET, 'engram.node'));
});

install('engram learn and engram predict run from the install on real image files', async () => {
  await writeDigits(work, 'train', [0, 1, 2], 10);
  const test = await writeDigits(work, 'test', [0, 1, 2], 8);
  const engram = join(project, 'node_modules', '.bin', 'engram');
  const store = join(work, 'store');
  const learn = run(engram, ['learn', '--store', store, '--labels-from', 'dir', join(work, 'train'), '--json'], {
    cwd: project,
    env: cleanEnv,
  });
  assert.is(learn.status, 0, show(learn));
  const predict = run(engram, ['predict', '--store', store, '--json', ...test], { cwd: project, env: cleanEnv });
  assert.is(predict.status, 0, show(predict));
  const lines = predict.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { file?: string; top?: { label: string }[] });
  const answers = lines.filter((l) => l.file && l.top);
  assert.is(answers.length, test.length, predict.stdout);
  const right = answers.filter((l) => l.top![0].label === l.file!.split('/').at(-2)).length;
  assert.ok(right >= 18, `${right}/${test.length} held-out digits right (chance 8)`);
});

install('where no prebuild fits, the install step builds from source, and says what to install when it cannot', () => {
  const step = join(installed, 'tools', 'install.mjs');
  let r = run(process.execPath, [step], { cwd: installed, env: { ...cleanEnv, ENGRAM_BUILD_FROM_SOURCE: '1' } });
  assert.is(r.status, 1, show(r));
  assert.match(r.stdout, /engram: a build from source was asked for: building the addon from source/);
  assert.match(r.stderr, /engram: fix: apt-get install cmake g\+\+ make libjpeg-dev, then npm rebuild engram/);
  const manifest = join(installed, 'prebuilds', 'manifest.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/"sources": "[0-9a-f]+"/, `"sources": "${'0'.repeat(64)}"`));
  r = run(process.execPath, [step], { cwd: installed, env: cleanEnv });
  assert.is(r.status, 1, show(r));
  assert.match(r.stdout, /the prebuilt addons were built from other sources than this package holds: building the addon from source/);
  assert.not.ok(existsSync(join(installed, 'build', 'Release', 'engram.node')), 'nothing was built without a compiler');
});

install.after(() => rmSync(work, { recursive: true, force: true }));

pack.run();
install.run();
