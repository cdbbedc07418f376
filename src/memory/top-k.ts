// Best k classes per row of a [batch x classes] score matrix.
import { int, rangeError, typed } from '../util/validate.js';
import type { TopK } from './types.js';

/** Returns the k best classes of each row, best first; equal scores keep the lower class id first. */
export function topK(scores: Int32Array, classes: number, k: number): TopK {
  typed('scores', scores, Int32Array);
  int('classes', classes, 0, 1 << 20);
  int('k', k, 1, 1 << 20);
  if (classes === 0 ? scores.length !== 0 : scores.length % classes !== 0) {
    throw rangeError('scores', `a length that is a multiple of classes (${classes})`, scores);
  }
  const batch = classes === 0 ? 0 : scores.length / classes;
  const kk = Math.min(k, classes);
  const indices = new Uint32Array(batch * kk);
  const best = new Int32Array(batch * kk);
  for (let b = 0; b < batch; b++) {
    const row = b * classes;
    const out = b * kk;
    let filled = 0;
    for (let c = 0; c < classes; c++) {
      const s = scores[row + c];
      if (filled === kk && s <= best[out + kk - 1]) continue;
      let pos = filled < kk ? filled++ : kk - 1;
      while (pos > 0 && s > best[out + pos - 1]) {
        best[out + pos] = best[out + pos - 1];
        indices[out + pos] = indices[out + pos - 1];
        pos--;
      }
      best[out + pos] = s;
      indices[out + pos] = c;
    }
  }
  return { k: kk, indices, scores: best };
}
