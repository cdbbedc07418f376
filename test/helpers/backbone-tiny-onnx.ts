// A tiny ONNX image model built in code, so graph cutting and model pulling can be tested without any
// downloaded file. Graph: input [N,C,8,8] -> 1x1 Conv (4 filters) -> Relu -> GlobalAveragePool "pooled"
// [N,4,1,1] -> QuantizeLinear "pooled_q" (uint8, scale pooled_scale, zero point pooled_zp) ->
// DequantizeLinear -> Flatten -> MatMul (4x3) "output" [N,3].
import { encodeModel, message, type OnnxModel } from '../../src/backbone/onnx-model.js';

export const TINY_SCALE = 0.05;
export const TINY_ZERO_POINT = 3;

export interface TinyOptions {
  /** NHWC adds a Transpose in front of the Conv. */
  layout?: 'NCHW' | 'NHWC';
  /** A fixed batch size instead of a symbolic one. */
  batch?: number;
}

export function tinyModel(channels: 1 | 3 = 3, size = 8, opts: TinyOptions = {}): Uint8Array {
  const nhwc = opts.layout === 'NHWC';
  const batchDim = opts.batch ? { dimValue: opts.batch } : { dimParam: 'N' };
  const inputDims = nhwc
    ? [batchDim, { dimValue: size }, { dimValue: size }, { dimValue: channels }]
    : [batchDim, { dimValue: channels }, { dimValue: size }, { dimValue: size }];
  const front = nhwc
    ? [
        {
          name: 'to_nchw',
          opType: 'Transpose',
          input: ['input'],
          output: ['nchw'],
          attribute: [{ name: 'perm', type: 7, ints: [0, 3, 1, 2] }],
        },
      ]
    : [];
  const f = (name: string, dims: number[], values: number[]) => ({ name, dataType: 1, dims, floatData: values });
  const weights = Array.from({ length: 4 * channels }, (_, i) => ((i % 5) - 2) / 4);
  const model = message<OnnxModel>('onnx.ModelProto', {
    irVersion: 7,
    producerName: 'engram-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: [
        ...front,
        { name: 'conv', opType: 'Conv', input: [nhwc ? 'nchw' : 'input', 'w', 'b'], output: ['conv'] },
        { name: 'relu', opType: 'Relu', input: ['conv'], output: ['relu'] },
        { name: 'gap', opType: 'GlobalAveragePool', input: ['relu'], output: ['pooled'] },
        { name: 'q', opType: 'QuantizeLinear', input: ['pooled', 'pooled_scale', 'pooled_zp'], output: ['pooled_q'] },
        { name: 'dq', opType: 'DequantizeLinear', input: ['pooled_q', 'pooled_scale', 'pooled_zp'], output: ['pooled_dq'] },
        { name: 'flat', opType: 'Flatten', input: ['pooled_dq'], output: ['flat'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
        { name: 'head', opType: 'MatMul', input: ['flat', 'head_w'], output: ['output'] },
      ],
      initializer: [
        f('w', [4, channels, 1, 1], weights),
        f('b', [4], [0.1, -0.1, 0.2, 0]),
        f('pooled_scale', [], [TINY_SCALE]),
        { name: 'pooled_zp', dataType: 2, dims: [], int32Data: [TINY_ZERO_POINT] },
        f('head_w', [4, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]),
      ],
      input: [{ name: 'input', type: { tensorType: { elemType: 1, shape: { dim: inputDims } } } }],
      output: [{ name: 'output', type: { tensorType: { elemType: 1, shape: { dim: [batchDim, { dimValue: 3 }] } } } }],
    },
  });
  return encodeModel(model);
}
