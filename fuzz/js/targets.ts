// The JavaScript fuzz targets: every parser of untrusted bytes in engram's TypeScript. Each says which
// errors it documents; anything else it throws is a crash (see isInternalError in engine.ts).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodePng } from '../../src/images/png.js';
import {
  FormatDamage,
  decodeSideFile,
  decodeSnapshot,
  encodeJournalHeader,
  encodeRecord,
  encodeSideFile,
  encodeSnapshot,
  scanSegment,
} from '../../src/store/format.js';
import { decodeOp, encodeOp } from '../../src/learner/ops.js';
import { FrameReader, encodeFrame } from '../../src/link/frame.js';
import { ProtocolError, decodeRequest, encodeRequest } from '../../src/link/protocol.js';
import { decodeCodebook, encodeCodebook, fitCodebook } from '../../src/quantize/codebook.js';
import { validateManifest } from '../../src/backbone/manifest.js';
import { ProfileError, devicesDir, loadSchema, validateProfile } from '../../src/devices/profile.js';
import { packageRoot } from '../../src/native/loader.js';
import { isInternalError, type Target } from './engine.js';

/** Runs body; an error is a crash unless `documented` accepts it and it is not JavaScript failing inside. */
function only(documented: (err: unknown) => boolean, body: () => void): void {
  try {
    body();
  } catch (err) {
    if (!documented(err) || isInternalError(err)) throw err;
  }
}

const png: Target = {
  name: 'js-png',
  seeds: async () => {
    const base = sharp(join(packageRoot, 'test', 'fixtures', 'images', 'chelsea.png')).resize(12, 8);
    return [
      await base.clone().png().toBuffer(),
      await base.clone().greyscale().png().toBuffer(),
      await base.clone().png({ palette: true }).toBuffer(),
      await base.clone().ensureAlpha().png({ adaptiveFiltering: true }).toBuffer(),
    ];
  },
  // Documented: a PNG decodes to consistent pixels, anything else is null (sharp takes it); it never throws.
  run: (input) => {
    const px = decodePng(input);
    if (px && px.data.length !== px.width * px.height * px.channels)
      throw new Error(`decodePng: ${px.data.length} bytes for ${px.width}x${px.height}x${px.channels}`);
  },
  dictionary: ['IHDR', 'IDAT', 'IEND', 'PLTE', 'tRNS', 'iCCP', 'sRGB'].map((s) => Buffer.from(s)),
  maxLength: 16 * 1024,
};

// The first byte picks the reader: 0 snapshot, 1 side file, 2 journal segment (and each record's operation).
const store: Target = {
  name: 'js-store-records',
  seeds: () => {
    const op = encodeOp({ op: 'learn', label: 'cat', codes: new Uint32Array([1, 5, 9, 2, 6, 10]), rows: 2, active: 3 });
    const forget = encodeOp({ op: 'forget', label: 'cat' });
    const prune = encodeOp({ op: 'prune', policy: { kind: 'minCount', minCount: 2 } as never });
    const segment = Buffer.concat([encodeJournalHeader(7), encodeRecord(7, 1, op), encodeRecord(8, 1, forget), encodeRecord(9, 1, prune)]);
    return [
      Buffer.concat([Buffer.from([0]), encodeSnapshot(9, { classes: 1, labels: ['cat'] }, Buffer.from('memory bytes'))]),
      Buffer.concat([Buffer.from([1]), encodeSideFile(Buffer.from('{"codebook":true}'))]),
      Buffer.concat([Buffer.from([2]), segment]),
    ];
  },
  // Documented: damage is returned as FormatDamage, never thrown; an operation that does not decode throws an
  // Error that says so (the store then refuses the journal).
  run: (input) => {
    const body = input.subarray(1);
    const kind = input.length ? input[0] % 3 : 0;
    if (kind === 0) decodeSnapshot(body);
    else if (kind === 1) decodeSideFile(body);
    else {
      const scan = scanSegment(body);
      if (!(scan instanceof FormatDamage))
        for (const r of scan.records)
          only(
            (e) => e instanceof Error,
            () => decodeOp(r.payload),
          );
    }
  },
  maxLength: 8 * 1024,
};

const link: Target = {
  name: 'js-link-frames',
  seeds: () => {
    const reqs = [
      { type: 'hello', minVersion: 1, maxVersion: 1 },
      { type: 'learn', label: 'mug', input: { kind: 'features', data: new Float32Array([0.5, -1, 2, 0]) } },
      { type: 'predict', top: 3, input: { kind: 'image', data: Buffer.from([1, 2, 3, 4]) } },
      { type: 'forget', label: 'mug' },
      { type: 'stats' },
    ];
    const out: Buffer[] = [];
    for (const [i, r] of reqs.entries()) {
      try {
        const { type, body } = encodeRequest(r as never);
        out.push(encodeFrame({ version: 1, type, id: i + 1, body }));
      } catch {
        // a seed this version of the protocol does not encode: the others still seed the run
      }
    }
    return [Buffer.concat(out), ...out];
  },
  // Documented: bad frames come back as faults; a request that does not parse throws ProtocolError.
  run: (input) => {
    const reader = new FrameReader();
    const mid = input.length >> 1;
    for (const part of [input.subarray(0, mid), input.subarray(mid), Buffer.from([0])]) {
      for (const ev of reader.push(part)) {
        if (ev.frame)
          only(
            (e) => e instanceof ProtocolError,
            () => decodeRequest(ev.frame.type, ev.frame.body),
          );
      }
    }
  },
  dictionary: [Buffer.from([0]), Buffer.from([1, 1]), Buffer.from([0xff])],
  maxLength: 8 * 1024,
};

const codebook: Target = {
  name: 'js-codebook',
  seeds: () => {
    const dim = 8;
    const features = new Float32Array(dim * 16).map((_, i) => Math.sin(i * 1.7));
    return [encodeCodebook(fitCodebook(features, dim, { parts: 2, anchors: 4, seed: 1 }))];
  },
  // Documented: a damaged codebook throws an Error naming its source.
  run: (input) =>
    only(
      (e) => e instanceof Error && e.message.startsWith('fuzz'),
      () => decodeCodebook(input, 'fuzz'),
    ),
  maxLength: 16 * 1024,
};

const manifest: Target = {
  name: 'js-manifest',
  seeds: () => [readFileSync(join(packageRoot, 'models', 'engram-glyph.json'))],
  // Documented: text that is not JSON is a SyntaxError (loadManifest names the file); a manifest that breaks
  // a rule throws an Error naming the field.
  run: (input) => {
    let value: unknown;
    try {
      value = JSON.parse(input.toString('utf8'));
    } catch {
      return;
    }
    only(
      (e) => e instanceof Error,
      () => validateManifest(value, 'fuzz.json'),
    );
  },
  dictionary: ['"input"', '"output"', '"preprocess"', '"mean"', '"std"', '"layout"', '[', ']', '{', '}', 'null', '-1', '1e309', '""'].map(
    (s) => Buffer.from(s),
  ),
  maxLength: 16 * 1024,
};

const profile: Target = {
  name: 'js-profile',
  seeds: () =>
    readdirSync(devicesDir())
      .filter((f) => f.endsWith('.json') && f !== 'schema.json')
      .map((f) => readFileSync(join(devicesDir(), f))),
  // Documented: a profile that breaks the schema or a rule throws ProfileError.
  run: (input) => {
    let value: unknown;
    try {
      value = JSON.parse(input.toString('utf8'));
    } catch {
      return;
    }
    only(
      (e) => e instanceof ProfileError,
      () => validateProfile(value, 'fuzz', schema),
    );
  },
  dictionary: [
    '"threads"',
    '"executionProviders"',
    '"memoryBudgetBytes"',
    '"serial"',
    '"match"',
    '[',
    ']',
    '{',
    '}',
    'null',
    '-1',
    '1e309',
    '""',
  ].map((s) => Buffer.from(s)),
  maxLength: 16 * 1024,
};

const schema = loadSchema();

export const TARGETS: Target[] = [png, store, link, codebook, manifest, profile];
