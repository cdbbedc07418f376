// The feature archive of a store made with keepFeatures: every learn op with its feature vectors, and the
// prune ops between them, in order. It is what lets a device refit its codebook later (engram codebook
// refit) and rebuild the memory from what it has seen. A forgotten class leaves the archive too.
import { decodeOp, encodeOp, type LearnerOp } from './ops.js';

export class FeatureArchive {
  ops: LearnerOp[] = [];

  add(op: LearnerOp): void {
    if (op.op === 'learn' && !op.features) throw new Error('feature archive: a learn op without its features');
    if (op.op !== 'forget') this.ops.push(op);
  }

  /** Drops every learn op of a forgotten label: the device keeps nothing of a class it forgot. */
  forget(label: string): void {
    this.ops = this.ops.filter((op) => !(op.op === 'learn' && op.label === label));
  }

  /** All archived feature vectors, row-major [n x dim]. */
  features(): { data: Float32Array; rows: number; dim: number } {
    const learns = this.ops.filter((op): op is Extract<LearnerOp, { op: 'learn' }> => op.op === 'learn');
    const dim = learns[0]?.dim ?? 0;
    const rows = learns.reduce((n, op) => n + op.rows, 0);
    const data = new Float32Array(rows * dim);
    let at = 0;
    for (const op of learns) {
      data.set(op.features!, at);
      at += op.features!.length;
    }
    return { data, rows, dim };
  }

  serialize(): Buffer {
    const parts = this.ops.map((op) => encodeOp(op));
    const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
    let o = 0;
    for (const p of parts) {
      o = out.writeUInt32LE(p.length, o);
      o += p.copy(out, o);
    }
    return out;
  }

  static deserialize(buf: Buffer, source: string): FeatureArchive {
    const a = new FeatureArchive();
    let o = 0;
    while (o < buf.length) {
      if (o + 4 > buf.length) throw new Error(`${source}: truncated feature archive`);
      const n = buf.readUInt32LE(o);
      o += 4;
      if (o + n > buf.length) throw new Error(`${source}: truncated feature archive`);
      a.ops.push(decodeOp(buf.subarray(o, o + n)));
      o += n;
    }
    return a;
  }
}
