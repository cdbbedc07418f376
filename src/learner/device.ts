// The device a learner runs on: its profile (named, or detected for this machine), the onnxruntime session
// settings it gives, and the backbone it suggests for a new learner.
import { availableParallelism } from 'node:os';
import { DEFAULT_BACKBONE, resolveBackboneRef } from './backbone-ref.js';
import { sessionConfigFromProfile, type SessionConfig } from '../backbone/session.js';
import type { DeviceProfile } from '../devices/index.js';

export interface Device {
  profile: DeviceProfile | null;
  /** override: named by the caller; detected: chosen for this machine. */
  source: 'override' | 'detected' | 'none';
  /** onnxruntime session settings from the profile. */
  session?: SessionConfig;
}

/** The named device profile, else the detected one (devices/), and the session settings it gives. */
export async function deviceFor(profile: string | undefined, warn: (m: string) => void): Promise<Device> {
  const { resolveProfile } = await import('../devices/index.js');
  const resolved = resolveProfile(profile === undefined ? {} : { profile });
  for (const w of resolved.detection.warnings) warn(w);
  if (!resolved.profile) return { profile: null, source: resolved.source };
  const session = sessionConfigFromProfile(resolved.profile);
  // A generic profile's thread count must not oversubscribe a smaller machine.
  if (session.threads !== undefined) session.threads = Math.min(session.threads, availableParallelism());
  return { profile: resolved.profile, source: resolved.source, session };
}

/**
 * The backbone of a new learner when none is named: the device profile's. When it is not installed, a profile
 * the caller named is an error (they asked for that device's setup); a detected one falls back to the embedded
 * backbone with one warning, so that a first run works offline.
 */
export function profileBackbone(device: Device, warn: (m: string) => void): string | undefined {
  if (!device.profile) return undefined;
  const { id, backbone } = device.profile;
  try {
    resolveBackboneRef(backbone);
    return backbone;
  } catch (err) {
    const why = (err as Error).message;
    if (device.source === 'override') {
      throw new Error(
        `device profile ${id} uses backbone "${backbone}" by default, but ${why}; or name a backbone (--backbone ${DEFAULT_BACKBONE} ships with engram)`,
        { cause: err },
      );
    }
    warn(
      `device profile ${id} (detected) uses backbone "${backbone}" by default, but ${why}. Using ${DEFAULT_BACKBONE}, which ships with engram; a store keeps the backbone it was created with`,
    );
    return DEFAULT_BACKBONE;
  }
}
