// What a profile's execution providers mean on this install: onnxruntime-node lists the providers it was
// built with and whether their libraries ship with it. The backbone tries them in this order at session
// start and falls back to the next on failure; this is the plan shown before anything runs.
import type { DeviceProfile } from './profile.js';

export interface SupportedBackend {
  name: string;
  bundled: boolean;
}

export interface ProviderStep {
  provider: string;
  /** ready: built in; needs-libraries: built but its libraries (CUDA, TensorRT) must be installed; absent: skipped. */
  status: 'ready' | 'needs-libraries' | 'absent';
  why: string;
}

export function planProviders(
  profile: DeviceProfile,
  supported: SupportedBackend[],
  platform = `${process.platform}/${process.arch}`,
): ProviderStep[] {
  return profile.executionProviders.map((provider) => {
    const b = supported.find((s) => s.name === provider);
    if (!b) return { provider, status: 'absent', why: `not in this onnxruntime-node build (${platform}): skipped` };
    if (!b.bundled)
      return {
        provider,
        status: 'needs-libraries',
        why: 'tried first; needs its runtime libraries installed, else falls back to the next',
      };
    return { provider, status: 'ready', why: provider === 'cpu' ? 'built in; the fallback' : 'built in' };
  });
}

/** The providers onnxruntime-node reports, or null when it cannot load here (the reason says why). */
export async function supportedBackends(): Promise<{ backends: SupportedBackend[] | null; reason?: string }> {
  try {
    const ort = await import('onnxruntime-node');
    return { backends: ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled })) };
  } catch (err) {
    return { backends: null, reason: (err as Error).message.split('\n')[0] };
  }
}
