// What every baseline offers the benchmark: learn labelled feature rows as they arrive, predict labels.
// Labels are small non-negative integers; features are row-major Float32Array [rows x dim].

export interface Classifier {
  readonly name: string;
  /** Learns rows x dim features with their labels (the classes may be new). */
  learn(features: Float32Array, labels: ArrayLike<number>): void;
  /** Best label per row; -1 while nothing is learned. */
  predict(features: Float32Array): Int32Array;
  /** Bytes the classifier keeps for one class (see docs/benchmarks.md for each definition). */
  bytesPerClass(): number;
  /** Bytes shared by all classes (a covariance matrix, for example); 0 if none. */
  sharedBytes(): number;
}
