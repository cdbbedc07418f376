// The addon loads through the one loader, and a missing addon produces one helpful error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBinding, bindingPath, addonCandidates, packageRoot } from '../src/native/index.js';
import { VERSION } from '../src/version.js';

test('loads the addon and reports its version and kernels', () => {
  const b = loadBinding();
  // The addon's version string must follow package.json's (the one place the version is written).
  assert.is(b.version(), VERSION);
  const simd = b.simd();
  assert.ok(['scalar', 'avx2', 'neon'].includes(simd.active), `active kernels: ${simd.active}`);
  if (process.arch === 'x64' || process.arch === 'arm64') assert.ok(simd.simd !== null, 'a SIMD path exists on this arch');
  console.log(`loaded ${bindingPath()} (kernels: ${simd.active})`);
});

test('ENGRAM_ADDON, when set, is the binary that is loaded', () => {
  if (process.env.ENGRAM_ADDON) {
    assert.is(bindingPath(), resolve(process.env.ENGRAM_ADDON));
  } else {
    assert.is(bindingPath(), addonCandidates()[0]);
    assert.is(bindingPath(), join(packageRoot, 'build', 'Release', 'engram.node'));
  }
});

test('ENGRAM_SIMD=scalar forces the scalar kernels', () => {
  const loader = join(packageRoot, 'dist', 'src', 'native', 'loader.js');
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { loadBinding } from ${JSON.stringify(loader)}; console.log(loadBinding().simd().active);`],
    {
      env: { ...process.env, ENGRAM_SIMD: 'scalar' },
      encoding: 'utf8',
    },
  );
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'scalar');
});

test('a missing addon gives one error listing every path tried and the fix', () => {
  // The compiled loader, copied into a package root that has no build/ at all.
  const fakeRoot = mkdtempSync(join(tmpdir(), 'engram-loader-'));
  const dir = join(fakeRoot, 'dist', 'src', 'native');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(packageRoot, 'dist', 'src', 'native', 'loader.js'), join(dir, 'loader.js'));
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { loadBinding } from ${JSON.stringify(join(dir, 'loader.js'))}; loadBinding();`],
    {
      env: { ...process.env, ENGRAM_ADDON: '/nonexistent/engram.node' },
      encoding: 'utf8',
    },
  );
  rmSync(fakeRoot, { recursive: true, force: true });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /cannot load the native addon/);
  assert.match(r.stderr, /\/nonexistent\/engram\.node: not found/);
  assert.match(r.stderr, /build\/Release\/engram\.node: not found/);
  assert.match(r.stderr, /build\/gyp\/build\/Release\/engram\.node: not found/);
  assert.ok(r.stderr.includes(`prebuilds/${process.platform}-${process.arch}/engram.node: not found`), r.stderr);
  assert.match(r.stderr, /npm run build:native/);
});

test('a broken ENGRAM_ADDON falls back to the build with a warning', () => {
  const loader = join(packageRoot, 'dist', 'src', 'native', 'loader.js');
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { bindingPath } from ${JSON.stringify(loader)}; console.log(bindingPath());`],
    {
      env: { ...process.env, ENGRAM_ADDON: '/nonexistent/engram.node' },
      encoding: 'utf8',
    },
  );
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), join(packageRoot, 'build', 'Release', 'engram.node'));
  assert.match(r.stderr, /EngramAddonWarning: ENGRAM_ADDON could not be used \(\/nonexistent\/engram\.node: not found\)/);
});

test('a file that is not the engram addon is rejected with its reason', () => {
  const loader = join(packageRoot, 'dist', 'src', 'native', 'loader.js');
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { loadBinding } from ${JSON.stringify(loader)}; loadBinding();`],
    {
      env: { ...process.env, ENGRAM_ADDON: join(packageRoot, 'package.json') },
      encoding: 'utf8',
    },
  );
  assert.is(r.status, 0, 'falls back to the build');
  assert.match(r.stderr, /package\.json: loaded but is not the engram addon/);
});

test('binding.gyp builds exactly the sources cmake-js globs (native/core, native/addon, native/image)', () => {
  const gyp = readFileSync(join(packageRoot, 'binding.gyp'), 'utf8');
  const listed = [...gyp.matchAll(/"(native\/[^"]+\.cc)"/g)].map((m) => m[1]).sort();
  const onDisk = ['core', 'addon', 'image']
    .flatMap((dir) =>
      readdirSync(join(packageRoot, 'native', dir))
        .filter((f) => f.endsWith('.cc'))
        .map((f) => `native/${dir}/${f}`),
    )
    .sort();
  assert.equal(listed, onDisk);
});

test.run();
