// The one seam between the link and the learner: the subset of Engram's public API the server
// drives. Engram satisfies it as is; tests of the framing and dispatch may pass a small stand-in.
import type { WireInput, WirePrunePolicy } from './protocol.js';
import type { RawImage } from '../images/decode.js';

/** What the link hands the learner: encoded image bytes, a feature vector, or raw pixels. */
export type LinkInput = Buffer | Float32Array | RawImage;

export interface LinkPrediction {
  label: string | null;
  score: number;
  margin: number;
  top: { label: string; score: number }[];
}

export interface LinkLearner {
  /** `seq`: the journal record of a change, which the server waits on (whenDurable) before it answers. */
  learn(label: string, inputs: LinkInput[]): Promise<{ label: string; stored: number; classes: number; seq?: number }>;
  predict(inputs: LinkInput[], opts?: { top?: number }): Promise<LinkPrediction[]>;
  forget(label: string): Promise<{ label: string; removed: number; seq?: number }>;
  /** `bytes`: resident size after; `compressedBytes`: the compressed size of the connection bits, what maxBytes limits. */
  prune(policy: WirePrunePolicy): Promise<{ removed: number; bytes: number; compressedBytes?: number; seq?: number }>;
  /** Resolves once journal record `seq` is on stable storage; absent for a learner that keeps nothing. */
  whenDurable?(seq: number): Promise<void>;
  /** `examples` is a total or a count per label (Engram gives the latter). */
  stats(): {
    classes: number;
    labels: string[];
    bytes: number;
    compressedBytes?: number;
    density: number;
    examples: number | Record<string, number>;
    /** The open-set threshold and how it was set, where the learner has one (STATS gives it when asked). */
    threshold?: number;
    thresholdSource?: 'calibrated' | 'fixed';
    calibration?: { known: number; novel: number };
  };
  save(): Promise<void>;
}

/**
 * A watched source (a camera) the link can learn and predict from without an image on the wire: what
 * LEARN-FRAME and PREDICT-FRAME run. `frame` is the index of the source's frame that was used.
 */
export interface LinkCamera {
  /** Learns the source's next frame as `label`; resolves once the example is durable. */
  learnFrame(label: string): Promise<{ frame: number; label: string; stored: number; classes: number }>;
  /** Predicts the source's newest frame. */
  predictFrame(opts: { top: number }): Promise<LinkPrediction & { frame: number }>;
}

/** The learner's input for a decoded wire input. */
export function toLearnerInput(input: WireInput): LinkInput {
  switch (input.kind) {
    case 'image':
      return input.bytes;
    case 'features':
      return input.vector;
    case 'pixels':
      return { data: input.data, width: input.width, height: input.height, channels: input.channels };
  }
}

/** Total stored examples from either form of `stats().examples`. */
export function totalExamples(examples: number | Record<string, number>): number {
  if (typeof examples === 'number') return examples;
  let n = 0;
  for (const v of Object.values(examples)) n += v;
  return n;
}
