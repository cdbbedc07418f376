// Device keys and signed messages (node:crypto Ed25519). Every message a device publishes is signed with its
// key; a receiver applies it only when the key is on the fleet's allow-list, the signature holds, the fleet
// name matches and every fact in it is the signer's own (a device speaks only for itself).
// Message: 'EGFM' | u8 2 | u16 fleet bytes | fleet | u8 space bytes | space | 32 public key | 64 signature | update
// The signature covers every byte except itself. `space` is the sender's memory space id (spaceId in device.ts):
// codes from another backbone, quantizer, codebook or whitening mean nothing here and are refused.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/index.js';
import { decodeUpdate } from './codec.js';
import type { Update } from './state.js';

export interface DeviceKey {
  privateKey: KeyObject;
  /** Raw 32-byte Ed25519 public key. */
  publicRaw: Buffer;
  /** Short id of the key: the first 16 hex digits of its sha256; stamps and contributions carry it. */
  origin: string;
}

const KEY_FILE = 'device.key';
const MAGIC = 'EGFM';

export function originOf(publicRaw: Uint8Array): string {
  return createHash('sha256').update(publicRaw).digest('hex').slice(0, 16);
}

function fromPrivate(privateKey: KeyObject): DeviceKey {
  const jwk = privateKey.export({ format: 'jwk' });
  const publicRaw = Buffer.from(jwk.x!, 'base64url');
  return { privateKey, publicRaw, origin: originOf(publicRaw) };
}

/** The device's key, kept in the fleet store (made on first use, readable by its owner only). */
export async function loadOrCreateKey(fleet: Store): Promise<DeviceKey> {
  const kept = await fleet.readFile(KEY_FILE);
  if (kept) return fromPrivate(createPrivateKey({ key: kept, format: 'der', type: 'pkcs8' }));
  const { privateKey } = generateKeyPairSync('ed25519');
  await fleet.writeFile(KEY_FILE, privateKey.export({ format: 'der', type: 'pkcs8' }));
  try {
    chmodSync(join(fleet.dir, KEY_FILE), 0o600);
  } catch {
    // A file system without modes (FAT on an SD card) keeps the key as it can.
  }
  return fromPrivate(privateKey);
}

/** One allow-list line for this key: base64 public key, then a name. */
export function allowLine(key: DeviceKey, name: string): string {
  return `${key.publicRaw.toString('base64')} ${name}`;
}

/** Reads an allow-list: one base64 Ed25519 public key per line, an optional name after it, # comments. */
export function readAllowList(file: string): Map<string, string> {
  const out = new Map<string, string>();
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const t = line.replace(/#.*/, '').trim();
      if (!t) return;
      const [b64, ...name] = t.split(/\s+/);
      const raw = Buffer.from(b64, 'base64');
      if (raw.length !== 32 || raw.toString('base64') !== b64)
        throw new RangeError(`${file}:${i + 1}: expected a base64 Ed25519 public key (32 bytes), got ${JSON.stringify(b64)}`);
      out.set(b64, name.join(' ') || originOf(raw));
    });
  return out;
}

const VERSION = 2;

export function signMessage(key: DeviceKey, fleet: string, space: string, update: Buffer): Buffer {
  const f = Buffer.from(fleet, 'utf8');
  const sp = Buffer.from(space, 'latin1');
  const head = Buffer.alloc(7);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt8(VERSION, 4);
  head.writeUInt16LE(f.length, 5);
  const id = Buffer.concat([head, f, Buffer.from([sp.length]), sp, key.publicRaw]);
  const sig = sign(null, Buffer.concat([id, update]), key.privateKey);
  return Buffer.concat([id, sig, update]);
}

export type Verdict = { ok: true; origin: string; name: string; update: Update; bytes: Buffer } | { ok: false; why: string };

/**
 * Checks a message against the fleet name, the allow-list and this device's memory space; never throws on bad
 * input. `space` null: any space (a reader that only inspects messages).
 */
export function openMessage(msg: Buffer, fleet: string, allow: Map<string, string>, space: string | null): Verdict {
  if (msg.length < 7 || msg.toString('latin1', 0, 4) !== MAGIC) return { ok: false, why: 'not a signed engram fleet message' };
  if (msg.readUInt8(4) !== VERSION)
    return {
      ok: false,
      why: `message version ${msg.readUInt8(4)} is not supported (this engram reads version ${VERSION}: update every device)`,
    };
  const n = msg.readUInt16LE(5);
  if (msg.length < 7 + n + 1) return { ok: false, why: 'truncated message' };
  const f = msg.toString('utf8', 7, 7 + n);
  if (f !== fleet) return { ok: false, why: `message for fleet ${JSON.stringify(f)}, this is ${JSON.stringify(fleet)}` };
  const sn = msg.readUInt8(7 + n);
  const at = 7 + n + 1 + sn;
  if (msg.length < at + 32 + 64) return { ok: false, why: 'truncated message' };
  const theirs = msg.toString('latin1', 7 + n + 1, at);
  const pub = msg.subarray(at, at + 32);
  const sig = msg.subarray(at + 32, at + 96);
  const bytes = msg.subarray(at + 96);
  const name = allow.get(pub.toString('base64'));
  const origin = originOf(pub);
  if (name === undefined) return { ok: false, why: `signed by key ${origin}, which is not on the fleet's allow-list` };
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  if (!verify(null, Buffer.concat([msg.subarray(0, at + 32), bytes]), key, sig))
    return { ok: false, why: `bad signature (claims key ${origin}): tampered or forged` };
  if (space !== null && theirs !== space)
    return {
      ok: false,
      why: `device ${origin} (${name}) learns in another memory space (${theirs}; this device: ${space}): every device of a fleet needs the same backbone, quantizer options, codebook or whitening and memory geometry. A store that whitened itself on its first learn (--whiten auto, the default) has a whitening of its own: start a new device from a member's export file (engram export, then engram import --store NEW FILE), or make every store with one --codebook FILE or --whiten off (docs/fleet.md)`,
    };
  let update: Update;
  try {
    update = decodeUpdate(bytes, 'message');
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
  const foreign = [
    ...update.contributions.map((c) => c.origin),
    ...update.tombstones.map((t) => t.stamp.origin),
    ...update.calibrations.map((c) => c.origin),
  ].find((o) => o !== origin);
  if (foreign !== undefined) return { ok: false, why: `device ${origin} (${name}) signed facts of device ${foreign}` };
  return { ok: true, origin, name, update, bytes };
}
