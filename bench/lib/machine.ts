// What a timing bench records about the machine it ran on. The int8 dot-product instructions matter most for
// the backbone: onnxruntime's int8 kernels use them, and the same "AMD EPYC" VM ran MobileNetV2 int8 about
// 4 times faster (and with slightly different features) once its CPU had AVX-512 VNNI.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';

export interface Machine {
  cpus: number;
  cpuModel: string;
  availableParallelism: number;
  loadAverageAtStart: number;
  node: string;
  platform: string;
  /** avx512_vnni, avx_vnni (x86-64), asimddp (arm64) where /proc/cpuinfo lists them; [] elsewhere. */
  int8DotProduct: string[];
}

function int8DotProduct(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return [];
  }
  const flags = new Set((/^(?:flags|Features)\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/));
  return ['avx512_vnni', 'avx_vnni', 'asimddp'].filter((f) => flags.has(f));
}

/** Call at the start of a run: the load average is the one before the bench's own work. */
export function machine(): Machine {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    availableParallelism: availableParallelism(),
    loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100,
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    int8DotProduct: int8DotProduct(),
  };
}

/** "2 x AMD EPYC (int8 dot product: avx512_vnni), Node v20.20.2": one line for a report. */
export function describeMachine(m: Machine): string {
  return `${m.cpus} x ${m.cpuModel} (int8 dot product: ${m.int8DotProduct.join(', ') || 'none'}), Node ${m.node}`;
}
