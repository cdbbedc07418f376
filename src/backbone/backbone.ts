// A frozen backbone: a manifest plus an onnxruntime session. Images in, one feature vector per image out.
// The model file is checked against the manifest's sha256 before the runtime sees it, and the model's
// input/output tensors against the manifest, so a wrong file fails at open with a message naming it.
import { createHash } from 'node:crypto';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { bool, int, oneOf, options, rangeError, typed, typeError } from '../util/validate.js';
import { inputLabel, type ImageInput } from '../images/decode.js';
import { affineFor, type Affine } from '../images/normalize.js';
import { imageIntoTensor, inkIntoTensor, type PreparedImage, type Preprocess } from '../images/tensor.js';
import type { Conventions } from '../images/conventions.js';
import { loadManifest, validateManifest, withPaths, type LoadedManifest, type Manifest } from './manifest.js';
import { openSession, resolveSessionConfig, SESSION_KEYS, type SessionConfig } from './session.js';
import { FileReadError, readFileCheckedAsync } from '../util/read-file.js';

export interface BackboneIdentity {
  name: string;
  sha256: string;
}

export interface EmbedOptions {
  /** Images per model call (default 8; a model with a fixed batch size uses that). */
  batchSize?: number;
  /**
   * Each vector the mean of the image's and its left-right mirror's (two model runs per image): features that
   * do not depend on which way a photographed thing faces. For photos, not for writing (docs/learner.md).
   */
  mirror?: boolean;
}

export interface BackboneOpenOptions extends SessionConfig {
  /** Folder a manifest object's `file` is relative to (when a manifest object rather than a path is given). */
  baseDir?: string;
  /**
   * 'fast' (default): JPEG through the addon's libjpeg at a reduced DCT scale, small PNGs and raw pixels
   * resized and normalised in one pass; everything else through sharp. 'sharp': every image through sharp.
   */
  preprocess?: Preprocess;
  /**
   * 'auto' (default): apply the manifest's input conventions to every image: invert it when its polarity is
   * not the model's (`polarity`), cut out and frame its ink as the training images were (`framing`).
   * 'off': feed images as they are. A manifest with neither field is unaffected.
   */
  conventions?: 'auto' | 'off';
}

/** Feature vectors and, per image, what it went through on the way (see PreparedImage). */
export interface EmbedDetailed {
  vectors: Float32Array[];
  images: PreparedImage[];
}

/** A manifest path, an .onnx path with a sidecar manifest, or a manifest object. */
export type BackboneSource = string | LoadedManifest | Manifest;

const DEFAULT_BATCH = 8;
// Batch tensors embed() keeps for its next batches: one being filled while the model reads the other.
const SPARE_TENSORS = 2;

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export class Backbone {
  /** The validated manifest, with the resolved model path. */
  readonly manifest: LoadedManifest;
  /** Feature dimension of every vector `embed` returns. */
  readonly dim: number;
  /** Identity a store records to refuse a different backbone later: `name@sha256:<hex>`. */
  readonly id: string;
  readonly identity: BackboneIdentity;
  /** Execution provider that took the model (e.g. 'cpu'). */
  readonly provider: string;
  /** The one line describing the session (provider, threads, optimisation, skipped providers). */
  readonly sessionSummary: string;

  private session: InferenceSession | undefined;
  private readonly ort: typeof import('onnxruntime-node');
  private readonly affine: Affine;
  private readonly fixedBatch: number | undefined;
  private readonly perImage: number;
  private readonly preprocess: Preprocess;
  /** The manifest's input conventions when they are applied; null: images are fed as they are. */
  readonly conventions: Conventions | null;
  // Tensors embed() has finished with. A fresh tensor costs a page fault per 4 KiB the first time it is
  // written (about 0.15 ms of CPU per 224x224x3 image on the development VM), a reused one nothing.
  private spare: Float32Array[] = [];

  private constructor(
    manifest: LoadedManifest,
    ort: typeof import('onnxruntime-node'),
    opened: { session: InferenceSession; provider: string; summary: string },
    fixedBatch: number | undefined,
    preprocess: Preprocess,
    conventions: 'auto' | 'off',
  ) {
    this.manifest = manifest;
    this.dim = manifest.output.dim;
    this.identity = Object.freeze({ name: manifest.name, sha256: manifest.sha256 });
    this.id = `${manifest.name}@sha256:${manifest.sha256}`;
    this.session = opened.session;
    this.provider = opened.provider;
    this.sessionSummary = opened.summary;
    this.ort = ort;
    this.affine = affineFor(manifest.input);
    this.fixedBatch = fixedBatch;
    const i = manifest.input;
    this.perImage = i.width * i.height * i.channels;
    this.preprocess = preprocess;
    const has = manifest.polarity !== undefined || manifest.framing !== undefined;
    this.conventions =
      conventions === 'auto' && has
        ? Object.freeze({
            ...(manifest.polarity ? { polarity: manifest.polarity } : {}),
            ...(manifest.framing ? { framing: manifest.framing } : {}),
          })
        : null;
  }

  /**
   * Opens a backbone: reads the manifest, checks the model's sha256, starts a session with the given
   * threads / providers / optimisation (see SessionConfig), and checks the model's tensors against the manifest.
   * @example
   * const b = await Backbone.open('model.features.json', { threads: 2, log: (line) => console.error(line) });
   * @throws {TypeError | RangeError} an unknown or invalid option, naming it.
   * @throws {Error} a manifest that does not validate, a model file that cannot be read, a sha256 that does not
   *   match the manifest, or tensors that disagree with it; each message names the file.
   */
  static async open(source: BackboneSource, opts?: BackboneOpenOptions): Promise<Backbone> {
    const o = options('Backbone.open options', opts, [...SESSION_KEYS, 'baseDir', 'preprocess', 'conventions'] as const);
    const { baseDir, preprocess, conventions, ...sessionOpts } = o;
    const prep = preprocess === undefined ? 'fast' : oneOf('Backbone.open options.preprocess', preprocess, ['fast', 'sharp'] as const);
    const conv = conventions === undefined ? 'auto' : oneOf('Backbone.open options.conventions', conventions, ['auto', 'off'] as const);
    const cfg = resolveSessionConfig(sessionOpts, 'Backbone.open options');
    const manifest = resolveSource(source, baseDir);
    const label = manifest.modelPath;

    let bytes: Buffer;
    try {
      bytes = await readFileCheckedAsync(manifest.modelPath, 'model');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'file not found' : err instanceof FileReadError ? err.detail : (code ?? (err as Error).message);
      throw new Error(`${label}: cannot read model file named by ${manifest.manifestPath} (${why})`, { cause: err });
    }
    const actual = sha256Hex(bytes);
    if (actual !== manifest.sha256) {
      throw new Error(`${label}: sha256 mismatch: manifest says ${manifest.sha256}, file has ${actual} (wrong or damaged model file)`);
    }
    const ort = await import('onnxruntime-node');
    const opened = await openSession(bytes, cfg, `backbone ${manifest.name}`);
    try {
      const fixedBatch = checkTensors(opened.session, manifest, label);
      const backbone = new Backbone(manifest, ort, opened, fixedBatch, prep, conv);
      cfg.log?.(opened.summary, opened.provider !== cfg.executionProviders[0]);
      return backbone;
    } catch (err) {
      await opened.session.release();
      throw err;
    }
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.session === undefined;
  }

  /**
   * One feature vector (length `dim`) per input, in order. Inputs are decoded, oriented, resized and
   * normalised per the manifest; an input that is not a usable image rejects with an error naming it.
   * @example
   * const [a, b2] = await b.embed(['photo.jpg', { data: grey, width: 28, height: 28, channels: 1 }]);
   * @throws {ImageError} an input that cannot be read or decoded (the message starts with its label).
   * @throws {Error} the backbone was closed.
   */
  async embed(inputs: readonly ImageInput[], opts?: EmbedOptions): Promise<Float32Array[]> {
    return (await this.embedDetailed(inputs, opts)).vectors;
  }

  /** As embed, and per image what it went through: the decode path and the input conventions applied. */
  async embedDetailed(inputs: readonly ImageInput[], opts?: EmbedOptions): Promise<EmbedDetailed> {
    if (!Array.isArray(inputs)) throw typeError('inputs', 'an array of images (paths, Buffers or raw pixels)', inputs);
    const o = options('embed options', opts, ['batchSize', 'mirror'] as const);
    const batchSize = this.fixedBatch ?? (o.batchSize === undefined ? DEFAULT_BATCH : int('embed options.batchSize', o.batchSize, 1, 4096));
    const mirror = o.mirror === undefined ? false : bool('embed options.mirror', o.mirror);
    this.session0();
    const out: Float32Array[] = [];
    const images: PreparedImage[] = [];
    const rows = this.fixedBatch ?? Math.min(batchSize, inputs.length);
    const batch = (start: number) => {
      const tensor = this.spareTensor(rows * this.perImage);
      const prepared = this.prepareDetailed(inputs.slice(start, start + batchSize), start, tensor);
      prepared.catch(() => this.giveBack(tensor)); // a failed batch gives its tensor back
      return prepared;
    };
    // Decode the next batch while the model runs on this one: decoders work on libuv threads.
    let next = inputs.length ? batch(0) : undefined;
    for (let start = 0; start < inputs.length; start += batchSize) {
      const current = next!;
      const following = start + batchSize;
      next = following < inputs.length ? batch(following) : undefined;
      next?.catch(() => undefined); // surfaced when awaited; stops an unhandled rejection if this batch fails first
      const count = Math.min(batchSize, inputs.length - start);
      const { tensor, images: prepared } = await current;
      images.push(...prepared);
      const vectors = await this.forward(tensor, count);
      if (mirror) {
        mirrorRows(tensor, count, this.manifest.input);
        const mirrored = await this.forward(tensor, count);
        vectors.forEach((v, r) => v.forEach((x, j) => (v[j] = (x + mirrored[r][j]) / 2)));
      }
      out.push(...vectors);
      // forward() copied the vectors out and onnxruntime no longer reads the input: the tensor can be reused.
      this.giveBack(tensor);
    }
    return { vectors: out, images };
  }

  /** A tensor of `length` values: the most recently returned spare that is large enough, else a new one. */
  private spareTensor(length: number): Float32Array {
    let at = this.spare.length - 1;
    while (at >= 0 && this.spare[at].buffer.byteLength < length * 4) at--;
    const found = at < 0 ? undefined : this.spare.splice(at, 1)[0];
    if (this.spare.length > SPARE_TENSORS) this.spare.splice(0, this.spare.length - SPARE_TENSORS);
    return new Float32Array(found ? found.buffer : Buffer.allocUnsafeSlow(length * 4).buffer, 0, length);
  }

  /** Gives a tensor embed() has finished with back to the spares (not after close: nothing would use it). */
  private giveBack(tensor: Float32Array): void {
    if (this.session) this.spare.push(tensor);
  }

  /**
   * Decodes and normalises images into one input tensor (batch x channels x height x width or NHWC).
   * `firstIndex` is the position of `inputs[0]` in the caller's list, for error labels. `into`: a tensor to
   * write into instead of a new one (a caller feeding frames in a loop reuses one, as embed() does); the
   * result is then a view of its first batch x image values.
   */
  async prepare(inputs: readonly ImageInput[], firstIndex = 0, into?: Float32Array): Promise<Float32Array> {
    return (await this.prepareDetailed(inputs, firstIndex, into)).tensor;
  }

  /** As prepare, and per image what it went through (see PreparedImage). */
  async prepareDetailed(
    inputs: readonly ImageInput[],
    firstIndex = 0,
    into?: Float32Array,
  ): Promise<{ tensor: Float32Array; images: PreparedImage[] }> {
    const i = this.manifest.input;
    const rows = this.fixedBatch ?? inputs.length;
    const length = rows * this.perImage;
    let data: Float32Array;
    if (into === undefined) {
      // Every value is written below (padding rows of a fixed batch included), so skip the zero fill.
      data = new Float32Array(Buffer.allocUnsafeSlow(length * 4).buffer, 0, length);
    } else {
      const t = typed('prepare into', into, Float32Array);
      if (t.length < length) throw rangeError('prepare into', `a Float32Array of at least ${length} values (${rows} images)`, t);
      data = t.length === length ? t : t.subarray(0, length);
    }
    data.fill(0, inputs.length * this.perImage);
    const target = { width: i.width, height: i.height, channels: i.channels, resize: i.resize, fit: i.fit };
    // Every image settles before prepare does, failed batch or not: no decode still running may write into
    // the tensor afterwards (embed hands a failed batch's tensor to the next batch, a caller reuses `into`).
    const conv = this.conventions;
    const settled = await Promise.allSettled(
      inputs.map(async (input, k): Promise<PreparedImage> => {
        const label = inputLabel(input, firstIndex + k);
        if (conv) return inkIntoTensor(input, target, conv, i, this.affine, data, k * this.perImage, label, this.preprocess);
        return {
          by: await imageIntoTensor(input, target, i, this.affine, data, k * this.perImage, label, this.preprocess),
          conventions: null,
        };
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { tensor: data, images: settled.map((r) => (r as PromiseFulfilledResult<PreparedImage>).value) };
  }

  /** Runs the model on a prepared tensor holding `count` images; returns `count` vectors of length `dim`. */
  async forward(data: Float32Array, count: number): Promise<Float32Array[]> {
    const session = this.session0();
    const i = this.manifest.input;
    const rows = data.length / this.perImage;
    if (!Number.isInteger(rows) || rows < count) {
      throw new RangeError(`tensor ${i.name}: ${data.length} values is not a whole batch of ${count} images of ${this.perImage} values`);
    }
    const dims = i.layout === 'NCHW' ? [rows, i.channels, i.height, i.width] : [rows, i.height, i.width, i.channels];
    const feeds: Record<string, Tensor> = { [i.name]: new this.ort.Tensor('float32', data, dims) };
    const result = await session.run(feeds, [this.manifest.output.name]);
    const y = result[this.manifest.output.name];
    if (!y || y.type !== 'float32') {
      throw new Error(
        `${this.manifest.modelPath}: output tensor ${this.manifest.output.name} is ${y ? y.type : 'missing'}, expected float32`,
      );
    }
    const values = y.data as Float32Array;
    if (values.length !== rows * this.dim) {
      throw new Error(
        `${this.manifest.modelPath}: output tensor ${this.manifest.output.name} has shape [${y.dims.join(', ')}], ` +
          `expected ${this.dim} values per image (manifest output.dim)`,
      );
    }
    const vectors: Float32Array[] = [];
    for (let r = 0; r < count; r++) vectors.push(values.slice(r * this.dim, (r + 1) * this.dim));
    y.dispose?.();
    return vectors;
  }

  /** Releases the session. Later calls to embed throw. */
  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.spare = [];
    if (s) await s.release();
  }

  private session0(): InferenceSession {
    if (!this.session) throw new Error(`backbone ${this.manifest.name} is closed`);
    return this.session;
  }
}

function resolveSource(source: BackboneSource, baseDir: unknown): LoadedManifest {
  if (typeof source === 'string') return loadManifest(source);
  if (source && typeof source === 'object' && 'modelPath' in source && 'manifestPath' in source) {
    return withPaths(validateManifest(source, 'manifest'), source.manifestPath);
  }
  if (source && typeof source === 'object') {
    if (typeof baseDir !== 'string') {
      throw typeError(
        'Backbone.open options.baseDir',
        "the folder the manifest's file is relative to (needed for a manifest object)",
        baseDir,
      );
    }
    return withPaths(validateManifest(source, 'manifest'), `${baseDir}/manifest.json`);
  }
  throw typeError('source', 'a manifest path, an .onnx path with a sidecar manifest, or a manifest object', source);
}

type ShapeDim = number | string | undefined;

/**
 * Checks the model has the manifest's input and output tensors and that the input shape agrees with
 * the manifest's layout and size. Returns the model's fixed batch size, if it has one.
 */
function checkTensors(session: InferenceSession, m: LoadedManifest, label: string): number | undefined {
  const inName = m.input.name;
  const outName = m.output.name;
  if (!session.inputNames.includes(inName)) {
    throw new Error(`${label}: model has no input tensor named "${inName}" (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(outName)) {
    throw new Error(
      `${label}: model has no output tensor named "${outName}" (outputs: ${session.outputNames.join(', ')}); ` +
        'a classifier can be cut to expose an inner tensor with "engram backbone cut"',
    );
  }
  const meta = (session as unknown as { inputMetadata?: { name: string; isTensor: boolean; type?: string; shape?: ShapeDim[] }[] })
    .inputMetadata;
  const info = Array.isArray(meta) ? meta.find((x) => x.name === inName) : undefined;
  if (!info || !info.isTensor || !info.shape) return undefined;
  if (info.type && info.type !== 'float32')
    throw new Error(`${label}: input tensor "${inName}" has type ${info.type}, manifest says float32`);
  const i = m.input;
  const want = i.layout === 'NCHW' ? [undefined, i.channels, i.height, i.width] : [undefined, i.height, i.width, i.channels];
  if (info.shape.length !== 4) {
    throw new Error(`${label}: input tensor "${inName}" has shape [${info.shape.join(', ')}], manifest says ${i.layout} with 4 dimensions`);
  }
  for (let d = 1; d < 4; d++) {
    const got = info.shape[d];
    if (typeof got === 'number' && got > 0 && got !== want[d]) {
      throw new Error(
        `${label}: input tensor "${inName}" has shape [${info.shape.join(', ')}], manifest says ${i.layout} [N, ${want.slice(1).join(', ')}]`,
      );
    }
  }
  const batch = info.shape[0];
  return typeof batch === 'number' && batch > 0 ? batch : undefined;
}

/** Turns the first `count` images of a prepared tensor into their left-right mirrors, in place. */
export function mirrorRows(
  data: Float32Array,
  count: number,
  input: { width: number; height: number; channels: number; layout: 'NCHW' | 'NHWC' },
): void {
  const { width: W, height: H, channels: C } = input;
  // A run of `step` values is one pixel (NHWC: its channels) or one value (NCHW); a row is W runs.
  const step = input.layout === 'NHWC' ? C : 1;
  const rows = count * H * (input.layout === 'NHWC' ? 1 : C);
  for (let r = 0; r < rows; r++) {
    const base = r * W * step;
    for (let a = 0, b = W - 1; a < b; a++, b--) {
      for (let c = 0; c < step; c++) {
        const i = base + a * step + c;
        const j = base + b * step + c;
        const t = data[i];
        data[i] = data[j];
        data[j] = t;
      }
    }
  }
}
