// A second real backbone without any download: the float32 export of the embedded engram-glyph model
// (models/engram-glyph-fp32.onnx), copied with its calibration sample under its own manifest. Same
// architecture, different weights file, so a store made with one must refuse the other.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from './learner-files.js';

/** Writes `<dir>/engram-glyph-fp32.json` (and copies the model and calibration files next to it); returns the manifest path. */
export function writeGlyphFp32(dir: string): string {
  const models = join(ROOT, 'models');
  const manifest = JSON.parse(readFileSync(join(models, 'engram-glyph.json'), 'utf8')) as Record<string, unknown>;
  copyFileSync(join(models, 'engram-glyph-fp32.onnx'), join(dir, 'engram-glyph-fp32.onnx'));
  copyFileSync(join(models, 'engram-glyph.calib.f32'), join(dir, 'engram-glyph.calib.f32'));
  const sha = createHash('sha256')
    .update(readFileSync(join(dir, 'engram-glyph-fp32.onnx')))
    .digest('hex');
  const path = join(dir, 'engram-glyph-fp32.json');
  writeFileSync(
    path,
    JSON.stringify({ ...manifest, name: 'engram-glyph-fp32', file: 'engram-glyph-fp32.onnx', sha256: sha, precision: 'fp32' }, null, 2),
  );
  return path;
}

/** Writes a device profile file `<dir>/<id>.json`: the generic x86_64 profile with the fields given changed. */
export function writeProfile(dir: string, id: string, fields: Record<string, unknown>): string {
  const base = JSON.parse(readFileSync(join(ROOT, 'devices', 'generic-x86_64.json'), 'utf8')) as Record<string, unknown>;
  delete base.$schema;
  // Matches this machine whatever it is, so the profile adds no architecture warning.
  const arch = process.arch;
  const path = join(dir, `${id}.json`);
  writeFileSync(
    path,
    JSON.stringify({ ...base, id, name: `test profile ${id}`, match: { arch: [arch] }, supportedArch: [arch], ...fields }, null, 2),
  );
  return path;
}
