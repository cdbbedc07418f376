// Cholesky factor and solve for the closed-form baselines (streaming LDA, ridge): symmetric positive definite
// D x D matrices, row-major Float64Array.

/** In-place lower Cholesky factor; `notPositive(j)` is the message when row j has no positive pivot. */
export function cholesky(A: Float64Array, D: number, notPositive: (row: number) => string): void {
  for (let j = 0; j < D; j++) {
    let s = A[j * D + j];
    for (let k = 0; k < j; k++) s -= A[j * D + k] * A[j * D + k];
    if (!(s > 0)) throw new RangeError(notPositive(j));
    const l = Math.sqrt(s);
    A[j * D + j] = l;
    for (let i = j + 1; i < D; i++) {
      let v = A[i * D + j];
      for (let k = 0; k < j; k++) v -= A[i * D + k] * A[j * D + k];
      A[i * D + j] = v / l;
    }
  }
}

/** x with L L^T x = rhs, L the lower factor from cholesky(). */
export function choleskySolve(L: Float64Array, D: number, rhs: Float64Array): Float64Array {
  const y = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let s = rhs[i];
    for (let k = 0; k < i; k++) s -= L[i * D + k] * y[k];
    y[i] = s / L[i * D + i];
  }
  const x = new Float64Array(D);
  for (let i = D - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < D; k++) s -= L[k * D + i] * x[k];
    x[i] = s / L[i * D + i];
  }
  return x;
}
