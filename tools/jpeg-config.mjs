#!/usr/bin/env node
// Finds libjpeg for binding.gyp at configure time (the node-gyp counterpart of find_package(JPEG) in
// CMakeLists.txt). Asks pkg-config first, then looks for jpeglib.h + libjpeg in the usual prefixes.
//   node tools/jpeg-config.mjs available     -> 1 or 0 (0 also prints why, with the fix, on stderr)
//   node tools/jpeg-config.mjs include_dirs  -> include directories, space-separated (often none)
//   node tools/jpeg-config.mjs libraries     -> linker arguments, e.g. -ljpeg
// ENGRAM_JPEG=0 in the environment forces "not found" (a build without the fast path).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const PREFIXES = ['/usr', '/usr/local', '/opt/homebrew', '/opt/local'];
const LIB_DIRS = ['lib', 'lib64', `lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`];
const LIB_FILES = ['libjpeg.so', 'libjpeg.dylib', 'libjpeg.a'];

function fromPkgConfig() {
  const run = (...args) => spawnSync('pkg-config', [...args, 'libjpeg'], { encoding: 'utf8' });
  const exists = run('--exists');
  if (exists.error || exists.status !== 0) return null;
  const cflags = run('--cflags-only-I')
    .stdout.trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((f) => f.replace(/^-I/, ''));
  const libs = run('--libs').stdout.trim();
  return { includeDirs: cflags, libraries: libs || '-ljpeg' };
}

function fromPrefixes() {
  for (const prefix of PREFIXES) {
    if (!existsSync(join(prefix, 'include', 'jpeglib.h'))) continue;
    const libDir = LIB_DIRS.map((d) => join(prefix, d)).find((d) => LIB_FILES.some((f) => existsSync(join(d, f))));
    if (!libDir) continue;
    const system = prefix === '/usr';
    return { includeDirs: system ? [] : [join(prefix, 'include')], libraries: system ? '-ljpeg' : `-L${libDir} -ljpeg` };
  }
  return null;
}

const found = process.env.ENGRAM_JPEG === '0' ? null : (fromPkgConfig() ?? fromPrefixes());
const what = process.argv[2];
if (what === 'available') {
  if (process.env.ENGRAM_JPEG === '0') {
    console.error('ENGRAM_JPEG=0: building without the JPEG fast path; JPEG files will be decoded by sharp');
  } else if (!found) {
    console.error('libjpeg not found: JPEG files will be decoded by sharp; apt-get install libjpeg-dev for the fast path');
  }
  console.log(found ? '1' : '0');
} else if (what === 'include_dirs') {
  console.log(found ? found.includeDirs.join(' ') : '');
} else if (what === 'libraries') {
  console.log(found ? found.libraries : '');
} else {
  console.error('usage: node tools/jpeg-config.mjs available|include_dirs|libraries');
  process.exit(1);
}
