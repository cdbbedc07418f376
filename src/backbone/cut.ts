// Cutting a classifier into a feature extractor: expose an inner tensor as the only graph output
// (dequantized when it is a quantized tensor, flattened to [N, D]), drop the nodes nothing needs any more,
// run the result once to check it and to learn D, then write the model and its manifest.
import { basename, dirname, extname, join, resolve } from 'node:path';
import { oneOf, options, str, num, typeError } from '../util/validate.js';
import { sha256Hex } from './backbone.js';
import { MANIFEST_FORMAT, manifestJson, validateManifest, type Manifest } from './manifest.js';
import {
  ATTR_INT,
  ElemType,
  decodeModel,
  encodeModel,
  message,
  opsetVersion,
  toNumber,
  type OnnxModel,
  type OnnxNode,
  type OnnxValueInfo,
} from './onnx-model.js';
import { writeFileAtomic } from '../util/durable-files.js';
import type { Preprocessing } from './catalogue.js';
import { FileReadError, readFileCheckedAsync } from '../util/read-file.js';

export interface CutOptions extends Preprocessing {
  /** The inner tensor to expose. */
  at: string;
  /** Output model path (default: `<stem>.features.onnx` in the current folder). Its manifest goes beside it as `<stem>.json`. */
  out?: string;
  /** Name of the new output tensor (default 'features'). */
  outputName?: string;
  /** Manifest name (default: the output file's stem). */
  name?: string;
  /** Quantization parameters of `at`, when they cannot be found from the graph. */
  scale?: string;
  zeroPoint?: string;
  // Preprocessing (inherited) is written to the manifest: the ONNX file does not say it. Defaults: ImageNet for 3 channels.
  license?: string;
  source?: string;
}

export interface CutResult {
  modelPath: string;
  manifestPath: string;
  manifest: Manifest;
  /** Whether a DequantizeLinear was inserted. */
  dequantized: boolean;
  /** Nodes kept of the original. */
  nodes: { before: number; after: number };
  bytes: number;
}

const CUT_KEYS = [
  'at',
  'out',
  'outputName',
  'name',
  'scale',
  'zeroPoint',
  'colorOrder',
  'range',
  'mean',
  'std',
  'resize',
  'fit',
  'license',
  'source',
] as const;

// For quantized operators, which inputs hold the output's scale and zero point.
const QUANT_OUTPUT_PARAMS: Record<string, [number, number]> = {
  QuantizeLinear: [1, 2],
  QLinearConv: [6, 7],
  QLinearMatMul: [6, 7],
  QLinearAdd: [6, 7],
  QLinearMul: [6, 7],
  QLinearGlobalAveragePool: [3, 4],
  QLinearAveragePool: [3, 4],
  QLinearSigmoid: [3, 4],
  QLinearLeakyRelu: [3, 4],
  QLinearSoftmax: [3, 4],
  QLinearConcat: [0, 1],
  QGemm: [6, 7],
};
// Operators whose output keeps the input's quantization (so the parameters come from upstream).
const QUANT_PASSTHROUGH = new Set(['MaxPool', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'Relu']);

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** Finds the scale and zero point of a quantized tensor, or undefined when the tensor is float. */
function quantParams(model: OnnxModel, tensor: string, label: string): { scale: string; zeroPoint: string } | undefined {
  const g = model.graph;
  const producers = new Map<string, OnnxNode>();
  for (const n of g.node) for (const o of n.output) producers.set(o, n);
  const elemTypeOf = (t: string) => [...g.valueInfo, ...g.output, ...g.input].find((v) => v.name === t)?.type?.tensorType?.elemType;
  const initNames = new Set(g.initializer.map((t) => t.name));
  let current = tensor;
  for (let hops = 0; hops < 16; hops++) {
    const node = producers.get(current);
    if (!node) break;
    const params = QUANT_OUTPUT_PARAMS[node.opType];
    if (params) {
      const scale = node.input[params[0]];
      const zeroPoint = node.input[params[1]];
      if (!scale) throw new Error(`${label}: ${node.opType} node "${node.name ?? ''}" producing ${tensor} has no output scale input`);
      return { scale, zeroPoint: zeroPoint ?? '' };
    }
    if (node.opType === 'DequantizeLinear' || !QUANT_PASSTHROUGH.has(node.opType)) break;
    current = node.input[0];
  }
  const t = elemTypeOf(tensor);
  if (t === ElemType.UINT8 || t === ElemType.INT8) {
    // Naming convention of onnxruntime's quantizer: <x>_quantized with <x>_scale and <x>_zero_point.
    const stem = tensor.replace(/_quantized$/, '');
    if (initNames.has(`${stem}_scale`))
      return { scale: `${stem}_scale`, zeroPoint: initNames.has(`${stem}_zero_point`) ? `${stem}_zero_point` : '' };
    throw new Error(
      `${label}: tensor ${tensor} is quantized but its scale and zero point were not found; pass them with --scale and --zero-point`,
    );
  }
  return undefined;
}

/** Keeps only the nodes, initializers and value infos that `output` depends on; graph order is kept. */
function prune(model: OnnxModel, output: string): void {
  const g = model.graph;
  const needed = new Set<string>([output]);
  const keep: boolean[] = new Array<boolean>(g.node.length).fill(false);
  for (let i = g.node.length - 1; i >= 0; i--) {
    const n = g.node[i];
    if (n.output.some((o) => needed.has(o))) {
      keep[i] = true;
      for (const inp of n.input) if (inp) needed.add(inp);
    }
  }
  g.node = g.node.filter((_, i) => keep[i]);
  g.initializer = g.initializer.filter((t) => needed.has(t.name));
  g.input = g.input.filter((v) => needed.has(v.name));
  g.valueInfo = g.valueInfo.filter((v) => needed.has(v.name));
  if (g.sparseInitializer) g.sparseInitializer = g.sparseInitializer.filter((s) => s.values && needed.has(s.values.name));
}

function isQuantizedModel(model: OnnxModel): boolean {
  return model.graph.node.some((n) => /^QLinear|^QGemm$|^(Quantize|Dequantize)Linear$|Integer$/.test(n.opType));
}

interface InputShape {
  name: string;
  layout: 'NCHW' | 'NHWC';
  channels: 1 | 3;
  height: number;
  width: number;
  /** Fixed batch size, if the model has one. */ batch?: number;
}

function imageInput(model: OnnxModel, label: string): InputShape {
  const inits = new Set(model.graph.initializer.map((t) => t.name));
  const inputs = model.graph.input.filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) {
    throw new Error(`${label}: expected one image input tensor, found ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`);
  }
  const v = inputs[0];
  const dims = (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0,
  );
  const show = `[${dims.map((d) => (d > 0 ? d : '?')).join(', ')}]`;
  if (dims.length !== 4) throw new Error(`${label}: input tensor ${v.name} has shape ${show}, expected 4 dimensions (NCHW or NHWC)`);
  const batch = dims[0] > 0 ? { batch: dims[0] } : {};
  if ((dims[1] === 1 || dims[1] === 3) && dims[2] > 0 && dims[3] > 0) {
    return { name: v.name, layout: 'NCHW', channels: dims[1], height: dims[2], width: dims[3], ...batch };
  }
  if ((dims[3] === 1 || dims[3] === 3) && dims[1] > 0 && dims[2] > 0) {
    return { name: v.name, layout: 'NHWC', channels: dims[3], height: dims[1], width: dims[2], ...batch };
  }
  throw new Error(`${label}: input tensor ${v.name} has shape ${show}; need fixed height, width and 1 or 3 channels`);
}

function validateCutOptions(opts: unknown): CutOptions {
  const o = options('cut options', opts, CUT_KEYS);
  const at = str('cut options.at', o.at, { nonEmpty: true });
  const out: CutOptions = { at };
  for (const k of ['out', 'outputName', 'name', 'scale', 'zeroPoint', 'license', 'source'] as const) {
    if (o[k] !== undefined) out[k] = str(`cut options.${k}`, o[k], { nonEmpty: true });
  }
  if (o.colorOrder !== undefined) out.colorOrder = oneOf('cut options.colorOrder', o.colorOrder, ['RGB', 'BGR', 'gray'] as const);
  if (o.resize !== undefined) out.resize = oneOf('cut options.resize', o.resize, ['bilinear', 'nearest', 'bicubic', 'lanczos'] as const);
  if (o.fit !== undefined) out.fit = oneOf('cut options.fit', o.fit, ['fill', 'cover'] as const);
  for (const k of ['range', 'mean', 'std'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (!Array.isArray(v)) throw typeError(`cut options.${k}`, 'an array of numbers', v);
    const nums = v.map((x, i) => num(`cut options.${k}[${i}]`, x));
    if (k === 'range') out.range = nums as [number, number];
    else out[k] = nums;
  }
  return out;
}

/**
 * Writes a feature-extractor copy of the classifier at `modelPath` that outputs tensor `opts.at`
 * (as float32 [N, D]), checks it by running it, and writes its manifest beside it.
 */
export async function cutModel(modelPath: string, opts: CutOptions): Promise<CutResult> {
  str('modelPath', modelPath, { nonEmpty: true });
  const o = validateCutOptions(opts);
  const label = modelPath;
  let original: Buffer;
  try {
    original = await readFileCheckedAsync(modelPath, 'model');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : err instanceof FileReadError ? err.detail : (code ?? (err as Error).message);
    throw new Error(`${label}: cannot read model (${why})`, { cause: err });
  }
  const model = decodeModel(original, label);
  const g = model.graph;
  const before = g.node.length;
  const shape = imageInput(model, label);

  const produced = new Set(g.node.flatMap((n) => n.output));
  if (!produced.has(o.at)) {
    const isInit = g.initializer.some((t) => t.name === o.at) || g.input.some((v) => v.name === o.at);
    if (isInit) throw new Error(`${label}: tensor ${o.at} is a graph input or weight, not an inner activation`);
    const needle = o.at.toLowerCase();
    const similar = [...produced].filter((t) => t.toLowerCase().includes(needle) || needle.includes(t.toLowerCase())).slice(0, 5);
    throw new Error(
      `${label}: no tensor named ${o.at} is produced by any node${similar.length ? ` (similar: ${similar.join(', ')})` : ''}`,
    );
  }
  const outputName = o.outputName ?? 'features';
  const taken = new Set([...produced, ...g.initializer.map((t) => t.name), ...g.input.map((v) => v.name)]);
  const dequantName = `${outputName}_dequantized`;
  for (const n of [outputName, dequantName]) {
    if (taken.has(n)) throw new Error(`${label}: tensor name ${n} already exists in the model; choose another output name`);
  }

  const q = o.scale ? { scale: o.scale, zeroPoint: o.zeroPoint ?? '' } : quantParams(model, o.at, label);
  let flattenInput = o.at;
  if (q) {
    const opset = opsetVersion(model) ?? 0;
    if (opset < 10) throw new Error(`${label}: opset ${opset} has no DequantizeLinear (needs 10 or later)`);
    for (const t of [q.scale, q.zeroPoint].filter(Boolean)) {
      if (!taken.has(t)) throw new Error(`${label}: quantization parameter tensor ${t} not found in the model`);
    }
    g.node.push(
      message<OnnxNode>('onnx.NodeProto', {
        name: `engram_cut_dequantize`,
        opType: 'DequantizeLinear',
        domain: '',
        input: q.zeroPoint ? [o.at, q.scale, q.zeroPoint] : [o.at, q.scale],
        output: [dequantName],
      }),
    );
    flattenInput = dequantName;
  }
  g.node.push(
    message<OnnxNode>('onnx.NodeProto', {
      name: 'engram_cut_flatten',
      opType: 'Flatten',
      domain: '',
      input: [flattenInput],
      output: [outputName],
      attribute: [{ name: 'axis', type: ATTR_INT, i: 1 }],
    }),
  );
  const outInfo = (dim?: number) =>
    message<OnnxValueInfo>('onnx.ValueInfoProto', {
      name: outputName,
      type: { tensorType: { elemType: ElemType.FLOAT, shape: { dim: [{ dimParam: 'N' }, dim ? { dimValue: dim } : { dimParam: 'D' }] } } },
    });
  g.output = [outInfo()];
  prune(model, outputName);

  const dim = await checkRun(encodeModel(model), shape, outputName, label);
  g.output = [outInfo(dim)];
  const bytes = encodeModel(model);
  await checkRun(bytes, shape, outputName, label);

  const outPath = resolve(o.out ?? `${basename(modelPath, extname(modelPath))}.features.onnx`);
  if (!outPath.endsWith('.onnx')) throw new RangeError(`cut options.out: expected a path ending in .onnx, got ${JSON.stringify(o.out)}`);
  if (outPath === resolve(modelPath)) throw new RangeError('cut options.out: must differ from the input model path');
  const manifestPath = join(dirname(outPath), `${basename(outPath, '.onnx')}.json`);
  const colorOrder = o.colorOrder ?? (shape.channels === 1 ? 'gray' : 'RGB');
  const grey = shape.channels === 1;
  const manifest = validateManifest(
    {
      format: MANIFEST_FORMAT,
      name: o.name ?? basename(outPath, '.onnx'),
      file: basename(outPath),
      sha256: sha256Hex(bytes),
      input: {
        name: shape.name,
        layout: shape.layout,
        width: shape.width,
        height: shape.height,
        channels: shape.channels,
        colorOrder,
        range: o.range ?? [0, 1],
        mean: o.mean ?? (grey ? [0] : IMAGENET.mean),
        std: o.std ?? (grey ? [1] : IMAGENET.std),
        resize: o.resize ?? 'bilinear',
        dtype: 'float32',
        ...(o.fit ? { fit: o.fit } : {}),
      },
      output: { name: outputName, dim },
      precision: isQuantizedModel(model) ? 'int8' : 'fp32',
      license: o.license ?? 'unknown (see the source model)',
      source: o.source ?? basename(modelPath),
      cut: { from: basename(modelPath), fromSha256: sha256Hex(original), at: o.at },
    },
    `manifest for ${outPath}`,
  );
  await writeFileAtomic(outPath, bytes);
  await writeFileAtomic(manifestPath, manifestJson(manifest));
  return {
    modelPath: outPath,
    manifestPath,
    manifest,
    dequantized: Boolean(q),
    nodes: { before, after: g.node.length },
    bytes: bytes.length,
  };
}

/** Runs the model once on zero images (one, or the model's fixed batch); returns D of the [B, D] output. */
async function checkRun(bytes: Uint8Array, shape: InputShape, output: string, label: string): Promise<number> {
  const ort = await import('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 4 });
  } catch (err) {
    throw new Error(`${label}: the cut model does not load in onnxruntime (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  try {
    const rows = shape.batch ?? 1;
    const dims =
      shape.layout === 'NCHW' ? [rows, shape.channels, shape.height, shape.width] : [rows, shape.height, shape.width, shape.channels];
    const x = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    const y = (await session.run({ [shape.name]: x }))[output];
    if (!y || y.type !== 'float32')
      throw new Error(`${label}: the cut model's output ${output} is ${y ? y.type : 'missing'}, expected float32`);
    if (y.dims.length !== 2 || y.dims[0] !== rows)
      throw new Error(`${label}: the cut model's output ${output} has shape [${y.dims.join(', ')}], expected [${rows}, D]`);
    const data = y.data as Float32Array;
    if (!data.every(Number.isFinite)) throw new Error(`${label}: the cut model's output ${output} is not finite on a test input`);
    return y.dims[1];
  } catch (err) {
    if ((err as Error).message.startsWith(label)) throw err;
    throw new Error(`${label}: the cut model fails to run (${(err as Error).message.split('\n').slice(0, 2).join(' ').trim()})`, {
      cause: err,
    });
  } finally {
    await session.release();
  }
}
