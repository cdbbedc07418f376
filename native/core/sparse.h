// Sparse expansion encoder: the native twin of src/quantize/sparse.ts (SparseQuantizer). Each block turns a
// feature row (raw, or after the partial whitening of src/quantize/whitening.ts) into the indices of the k
// largest outputs of a seeded subsampled randomized Hadamard rotation. The rotation parameters are generated in
// TypeScript from the seeded Rng and handed over once, so codes stay those of stores written before. Every
// value is computed in double precision in the order of the TypeScript reference, and the build turns FMA
// contraction off (-ffp-contract=off), so codes are the same bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "status.h"

namespace engram {

/** One block of a sparse code: neurons [begin, begin + neurons), k of them active in every code. */
struct eg_sparse_block {
  uint32_t begin = 0;
  uint32_t neurons = 0;
  uint32_t k = 0;
  /** Reads the whitened features instead of the raw ones. */
  bool white = false;
  /** Round r of the rotation: in_sign[r * dim ..), perm[r * size ..), mid_sign[r * size ..); signs are +-1. */
  std::vector<double> in_sign;
  std::vector<uint32_t> perm;
  std::vector<double> mid_sign;
};

/** A partial whitening z = g (x - mean) + V ((f - g) * V^T (x - mean)), as src/quantize/whitening.ts stores it. */
struct eg_whitening {
  uint32_t d = 0;
  std::vector<float> mean;  // dim
  std::vector<float> f;     // d
  double g = 0;
  std::vector<float> basis;  // d x dim, direction i at i * dim
};

class SparseEncoder {
 public:
  static constexpr uint32_t kMaxDim = 1u << 24;
  static constexpr uint32_t kMaxNeurons = 1u << 20;

  /**
   * Checks the geometry (blocks contiguous from neuron 0, k in [1, neurons - 1], one sign per input and per
   * padded output, each perm a permutation of the padded length, a whitening when a block reads one) and takes
   * the parameters; bad_geometry when any of it does not hold.
   */
  static eg_status create(uint32_t dim, std::vector<eg_sparse_block> blocks, std::unique_ptr<eg_whitening> whitening,
                          std::unique_ptr<SparseEncoder>* out);

  uint32_t dim() const { return dim_; }
  /** Indices per code: the sum of the blocks' k. */
  uint32_t active() const { return active_; }
  bool has_whitening() const { return whitening_ != nullptr; }

  /**
   * Encodes rows x dim features (finite, the caller checks) into rows x active() indices: per block its k
   * indices ascending (ties to the lower index). bad_value, with *bad_row set, when a row's whitened features
   * are not finite in float32 (the whitening overflows); out is then partly written.
   */
  eg_status encode(const float* features, size_t rows, uint32_t* out, size_t* bad_row) const;

  /** Uses the AVX2 variants when on and the process's kernels are AVX2 (default), else the portable ones. */
  void set_simd(bool on);
  bool simd() const { return simd_; }

  /** Writes the whitened rows (rows x dim, rounded to float32) into out; bad_geometry without a whitening. */
  eg_status whiten(const float* features, size_t rows, float* out) const;

 private:
  SparseEncoder() = default;
  void whiten_row(const float* x, double* work, double* proj, float* out) const;
  void rotate(const eg_sparse_block& b, const float* x, double* values, double* buf) const;

  uint32_t dim_ = 0;
  uint32_t size_ = 0;  // dim padded to a power of two
  uint32_t active_ = 0;
  uint32_t widest_ = 0;
  bool simd_ = false;
  std::vector<eg_sparse_block> blocks_;
  std::unique_ptr<eg_whitening> whitening_;
  std::vector<float> basis_t_;  // the whitening basis transposed (dim x d), so V^T x runs over directions
  std::vector<double> f_minus_g_;
};

/**
 * Writes the indices of the k largest of the finite values v[0..n) (ties: lower index first; -0 ties with +0),
 * ascending, plus offset, into out[0..k); 1 <= k <= n. scratch holds 2n entries, picked n + 1. The same indices
 * as the TypeScript reference's quickselect, found by a radix select.
 */
void eg_sparse_top_k(const double* v, size_t n, size_t k, uint32_t* out, uint32_t offset, uint64_t* scratch,
                     uint32_t* picked);

/** In-place unnormalised fast Walsh-Hadamard transform of a power-of-two length n. */
void eg_fwht(double* a, size_t n);

}  // namespace engram
