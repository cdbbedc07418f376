// Sample sizes and the seed of a benchmark run: full (~20 minutes with cached features) or --quick.
export interface Sizes {
  /** Training images per class (the "all" stream is capped here). */
  train: number;
  /** Test images per class. */
  test: number;
  /** Episodes per N-way k-shot setting. */
  episodes: number;
  seed: number;
}

export function sizes(quick: boolean): Sizes {
  return quick ? { train: 100, test: 50, episodes: 50, seed: 7 } : { train: 500, test: 100, episodes: 200, seed: 7 };
}
