// Memory columns as sparse lists (neuron, counter), read from and written to the memory's serialized form
// (docs/memory.md "Serialized format"): the fleet moves columns between memories whose class ids differ.
import { crc32 } from 'node:zlib';
import { BinaryMemory } from '../memory/index.js';

/** One class column: the neurons connected to it, ascending, and each connection's counter (1 without counters). */
export interface Column {
  neurons: Uint32Array;
  counts: Uint8Array;
}

const HEADER = 24;

/** Every column of a memory, in class-id order. */
export function readColumns(memory: BinaryMemory): Column[] {
  const buf = memory.serialize();
  const N = buf.readUInt32LE(8);
  const C = buf.readUInt32LE(12);
  const bits = buf.readUInt8(6);
  const row = Math.ceil(C / 8);
  const crow = Math.ceil((C * bits) / 8);
  const counterBase = HEADER + N * row;
  const neurons: number[][] = Array.from({ length: C }, () => []);
  const counts: number[][] = Array.from({ length: C }, () => []);
  for (let n = 0; n < N; n++) {
    const at = HEADER + n * row;
    for (let byte = 0; byte < row; byte++) {
      let b = buf[at + byte];
      while (b !== 0) {
        const bit = 31 - Math.clz32(b & -b);
        b &= b - 1;
        const c = byte * 8 + bit;
        neurons[c].push(n);
        counts[c].push(
          bits === 0 ? 1 : bits === 8 ? buf[counterBase + n * crow + c] : (buf[counterBase + n * crow + (c >> 1)] >> ((c & 1) * 4)) & 15,
        );
      }
    }
  }
  return neurons.map((ns, c) => ({ neurons: Uint32Array.from(ns), counts: Uint8Array.from(counts[c]) }));
}

/** A memory holding exactly `columns` (class c = columns[c]); counters above the width's maximum are refused. */
export function memoryFromColumns(columns: readonly Column[], neurons: number, counterBits: 0 | 4 | 8, active: number): BinaryMemory {
  const C = columns.length;
  const row = Math.ceil(C / 8);
  const crow = Math.ceil((C * counterBits) / 8);
  const payload = neurons * (row + crow);
  const buf = Buffer.alloc(HEADER + payload + 4);
  buf.write('EGBM', 0, 'latin1');
  buf.writeUInt16LE(1, 4);
  buf.writeUInt8(counterBits, 6);
  buf.writeUInt32LE(neurons, 8);
  buf.writeUInt32LE(C, 12);
  buf.writeBigUInt64LE(BigInt(payload), 16);
  const counterBase = HEADER + neurons * row;
  const max = counterBits === 0 ? 1 : (1 << counterBits) - 1;
  columns.forEach((col, c) => {
    for (let i = 0; i < col.neurons.length; i++) {
      const n = col.neurons[i];
      const v = col.counts[i];
      if (n >= neurons) throw new RangeError(`column ${c}: neuron ${n} is outside the memory's ${neurons}`);
      if (v < 1 || v > max) throw new RangeError(`column ${c}: counter ${v} is outside 1..${max}`);
      buf[HEADER + n * row + (c >> 3)] |= 1 << (c & 7);
      if (counterBits === 8) buf[counterBase + n * crow + c] = v;
      else if (counterBits === 4) buf[counterBase + n * crow + (c >> 1)] |= v << ((c & 1) * 4);
    }
  });
  buf.writeUInt32LE(crc32(buf.subarray(0, buf.length - 4)) >>> 0, buf.length - 4);
  return BinaryMemory.deserialize(buf, { active });
}

/**
 * The column several devices' contributions to one class make together: the OR of their connections, each
 * counter the sum of theirs, saturating at `max`. min(max, a + b) is commutative and associative over
 * non-negative counts, so the result does not depend on the order the contributions are listed in.
 */
export function sumColumns(columns: readonly Column[], max: number): Column {
  if (columns.length === 1) return columns[0];
  const total = new Map<number, number>();
  for (const col of columns)
    for (let i = 0; i < col.neurons.length; i++) total.set(col.neurons[i], Math.min(max, (total.get(col.neurons[i]) ?? 0) + col.counts[i]));
  const neurons = Uint32Array.from(total.keys()).sort();
  return { neurons, counts: Uint8Array.from(neurons, (n) => total.get(n)!) };
}

export function sameColumn(a: Column, b: Column): boolean {
  if (a.neurons.length !== b.neurons.length) return false;
  for (let i = 0; i < a.neurons.length; i++) if (a.neurons[i] !== b.neurons[i] || a.counts[i] !== b.counts[i]) return false;
  return true;
}
