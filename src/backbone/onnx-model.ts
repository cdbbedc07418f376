// Reading and writing ONNX model files with protobufjs and the ONNX schema (onnx.proto beside this
// module's source, Apache-2.0, from the ONNX project). Decoding then encoding an unchanged model gives
// the same bytes, so an edit touches only what it means to.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// Plain views of the protobuf messages (only the fields engram reads or writes).
export interface OnnxTensorShapeDim {
  dimValue?: number | { toNumber(): number };
  dimParam?: string;
}
export interface OnnxValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim: OnnxTensorShapeDim[] } } };
}
export interface OnnxAttribute {
  name: string;
  type: number;
  i?: unknown;
  ints?: unknown[];
  f?: number;
  s?: Uint8Array;
}
export interface OnnxNode {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}
export interface OnnxTensor {
  name: string;
  dataType?: number;
  dims: unknown[];
}
export interface OnnxGraph {
  name?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  sparseInitializer?: { values?: OnnxTensor }[];
}
export interface OnnxOpset {
  domain?: string;
  version: number | { toNumber(): number };
}
export interface OnnxModel {
  irVersion?: unknown;
  opsetImport: OnnxOpset[];
  graph: OnnxGraph;
}

/** ONNX TensorProto.DataType values engram cares about. */
export const ElemType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
/** AttributeProto.AttributeType.INT */
export const ATTR_INT = 2;

let modelType: protobuf.Type | undefined;

function schemaPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Beside the source file when run from src/, or in src/backbone/ when run from dist/src/backbone/.
  const candidates = [join(here, 'onnx.proto'), join(here, '..', '..', '..', 'src', 'backbone', 'onnx.proto')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`ONNX schema not found (looked in ${candidates.join(' and ')}); the engram package is incomplete`);
  return found;
}

function type(): protobuf.Type {
  modelType ??= protobuf.loadSync(schemaPath()).lookupType('onnx.ModelProto');
  return modelType;
}

/** Parses ONNX bytes; `label` (the file name) starts the error when the bytes are not a model. */
export function decodeModel(bytes: Uint8Array, label: string): OnnxModel {
  let m: OnnxModel;
  try {
    m = type().decode(bytes) as unknown as OnnxModel;
  } catch (err) {
    throw new Error(`${label}: not an ONNX model (${(err as Error).message})`, { cause: err });
  }
  if (!m.graph || !Array.isArray(m.graph.node) || m.graph.node.length === 0) {
    throw new Error(`${label}: not an ONNX model (no graph nodes)`);
  }
  return m;
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return type().encode(type().fromObject(model)).finish();
}

/** Builds a message of the given ONNX type from a plain object (e.g. 'onnx.NodeProto'). */
export function message<T>(typeName: string, fields: Record<string, unknown>): T {
  const t = type().root.lookupType(typeName);
  return t.fromObject(fields) as unknown as T;
}

export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value && typeof (value as { toNumber?: unknown }).toNumber === 'function') return (value as { toNumber(): number }).toNumber();
  return Number(value);
}

/** The opset version the model imports for a domain ('' = the default ONNX domain). */
export function opsetVersion(model: OnnxModel, domain = ''): number | undefined {
  const found = model.opsetImport.find((o) => (o.domain ?? '') === domain || (domain === '' && o.domain === 'ai.onnx'));
  return found ? toNumber(found.version) : undefined;
}
