// Preloaded (node --require) into the emulated arm64 Node. Without binfmt registration the host kernel cannot
// exec an aarch64 binary, so a test that spawns process.execPath (a child Node) would fail. This sends such
// spawns to the wrapper script in ENGRAM_ARM64_NODE, which runs the same arm64 node under qemu-aarch64-static
// with this preload again: the child is still the real arm64 Node, as binfmt would have started it.
'use strict';
const childProcess = require('node:child_process');
const { syncBuiltinESMExports } = require('node:module');

const wrapper = process.env.ENGRAM_ARM64_NODE;
if (!wrapper) throw new Error('qemu-spawn.cjs: ENGRAM_ARM64_NODE (the wrapper that runs arm64 node under qemu) is not set');

const isArm64Node = (file) => file === process.execPath || file === 'node';

// spawn, fork, exec and execFile all go through ChildProcess.prototype.spawn with { file, args: [argv0, ...] }.
const asyncSpawn = childProcess.ChildProcess.prototype.spawn;
childProcess.ChildProcess.prototype.spawn = function spawn(options) {
  if (options && isArm64Node(options.file)) {
    options = { ...options, file: wrapper, args: [wrapper, ...options.args.slice(1)] };
  }
  return asyncSpawn.call(this, options);
};

// The synchronous calls do not share one hook: wrap the two that take a file and arguments.
for (const name of ['spawnSync', 'execFileSync']) {
  const original = childProcess[name];
  childProcess[name] = function (file, args, options) {
    return original.call(this, isArm64Node(file) ? wrapper : file, args, options);
  };
}
// ESM `import { spawnSync } from 'node:child_process'` sees the wrapped functions too.
syncBuiltinESMExports();
