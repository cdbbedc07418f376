// The sparse expansion encoder (sparse.h): rotation, top-k and whitening in the TypeScript reference's order.
#include "sparse.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "eg_port.h"
#include "kernels.h"

namespace engram {

namespace {

bool is_sign(double s) { return s == 1.0 || s == -1.0; }

bool is_permutation(const uint32_t* p, size_t n, std::vector<uint8_t>& seen) {
  std::fill(seen.begin(), seen.end(), uint8_t(0));
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= n || seen[p[i]]) return false;
    seen[p[i]] = 1;
  }
  return true;
}

}  // namespace

namespace {

#if defined(__GNUC__) || defined(__clang__)
#define EG_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EG_ALWAYS_INLINE inline
#endif

// The bodies below are compiled twice, into portable functions and (x86-64) into AVX2 ones chosen at run time.
// Vectorising changes no result: every lane is its own sum in the reference's order, and the build allows no
// FMA contraction.

EG_ALWAYS_INLINE void fwht_body(double* a, size_t n) {
  // h = 1 and 2 written out: the generic loop's inner run of h is too short to vectorise. Each output is the
  // same single addition or subtraction in every variant, so results do not depend on the path taken.
  if (n >= 2) {
    for (size_t i = 0; i < n; i += 2) {
      const double x = a[i], y = a[i + 1];
      a[i] = x + y;
      a[i + 1] = x - y;
    }
  }
  if (n >= 4) {
    for (size_t i = 0; i < n; i += 4) {
      const double x0 = a[i], x1 = a[i + 1], y0 = a[i + 2], y1 = a[i + 3];
      a[i] = x0 + y0;
      a[i + 1] = x1 + y1;
      a[i + 2] = x0 - y0;
      a[i + 3] = x1 - y1;
    }
  }
  for (size_t h = 4; h < n; h *= 2) {
    for (size_t i = 0; i < n; i += 2 * h) {
      double* EG_RESTRICT lo = a + i;
      double* EG_RESTRICT hi = a + i + h;
      for (size_t j = 0; j < h; ++j) {
        const double x = lo[j], y = hi[j];
        lo[j] = x + y;
        hi[j] = x - y;
      }
    }
  }
}

struct whiten_args {
  size_t dim, d;
  const float* mean;
  const float* basis;
  const float* basis_t;
  const double* f_minus_g;
  double g;
};

EG_ALWAYS_INLINE void whiten_body(const whiten_args& a, const float* x, double* work, double* proj, float* out) {
  const size_t dim = a.dim, d = a.d;
  for (size_t t = 0; t < dim; ++t) work[t] = double(x[t]) - double(a.mean[t]);
  // V^T (x - mean): each direction's sum runs in dimension order (the reference's), over all directions at
  // once so the inner loop vectorises.
  std::fill(proj, proj + d, 0.0);
  for (size_t t = 0; t < dim; ++t) {
    const double xt = work[t];
    const float* EG_RESTRICT col = a.basis_t + t * d;
    double* EG_RESTRICT p = proj;
    for (size_t i = 0; i < d; ++i) p[i] += double(col[i]) * xt;
  }
  for (size_t i = 0; i < d; ++i) proj[i] *= a.f_minus_g[i];
  for (size_t t = 0; t < dim; ++t) work[t] *= a.g;
  for (size_t i = 0; i < d; ++i) {
    const double p = proj[i];
    const float* EG_RESTRICT row = a.basis + i * dim;
    double* EG_RESTRICT z = work;
    for (size_t t = 0; t < dim; ++t) z[t] += double(row[t]) * p;
  }
  for (size_t t = 0; t < dim; ++t) out[t] = float(work[t]);
}

EG_ALWAYS_INLINE void rotate_body(const eg_sparse_block& b, size_t dim, size_t size, const float* x, double* values,
                                  double* buf) {
  const size_t rounds = b.perm.size() / size;
  size_t written = 0;
  for (size_t r = 0; r < rounds; ++r) {
    const uint32_t* perm = &b.perm[r * size];
    const double* in_sign = &b.in_sign[r * dim];
    const double* mid_sign = &b.mid_sign[r * size];
    std::fill(buf, buf + size, 0.0);
    for (size_t t = 0; t < dim; ++t) buf[perm[t]] = double(x[t]) * in_sign[t];
    fwht_body(buf, size);
    for (size_t t = 0; t < size; ++t) buf[t] *= mid_sign[t];
    fwht_body(buf, size);
    const size_t take = std::min<size_t>(size, b.neurons - written);
    std::memcpy(values + written, buf, take * sizeof(double));
    written += take;
  }
}

void whiten_portable(const whiten_args& a, const float* x, double* work, double* proj, float* out) {
  whiten_body(a, x, work, proj, out);
}
void rotate_portable(const eg_sparse_block& b, size_t dim, size_t size, const float* x, double* values, double* buf) {
  rotate_body(b, dim, size, x, values, buf);
}
#if defined(EG_HAVE_AVX2_PATH)
EG_TARGET_AVX2 void whiten_avx2(const whiten_args& a, const float* x, double* work, double* proj, float* out) {
  whiten_body(a, x, work, proj, out);
}
EG_TARGET_AVX2 void rotate_avx2(const eg_sparse_block& b, size_t dim, size_t size, const float* x, double* values,
                                double* buf) {
  rotate_body(b, dim, size, x, values, buf);
}
#endif

}  // namespace

void eg_fwht(double* a, size_t n) { fwht_body(a, n); }

namespace {

/** An unsigned key that orders as the double does (for finite values; -0 becomes +0, so the two tie). */
inline uint64_t order_key(double x) {
  x += 0.0;  // -0 + 0 = +0
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  const uint64_t negative = uint64_t(0) - (b >> 63);
  return b ^ (negative | (uint64_t(1) << 63));
}

/**
 * The want-th largest (1-based) of keys[0..m): radix select on 11 bits at a time from the top, narrowing to the
 * bucket that holds it (gathered into cand), then nth_element on the few left. Fewer branches to mispredict than
 * a quickselect over the values.
 */
uint64_t kth_largest_key(const uint64_t* keys, size_t m, size_t want, uint64_t* cand) {
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t(1) << kBits;
  uint32_t hist[kBuckets];
  const uint64_t* src = keys;
  for (int shift = 64 - kBits; shift >= 0 && m > 32; shift -= kBits) {
    std::memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < m; ++i) ++hist[(src[i] >> shift) & (kBuckets - 1)];
    size_t bucket = kBuckets - 1, above = 0;
    while (above + hist[bucket] < want) above += hist[bucket--];
    want -= above;
    size_t w = 0;
    for (size_t i = 0; i < m; ++i) {
      const uint64_t key = src[i];
      cand[w] = key;
      w += ((key >> shift) & (kBuckets - 1)) == bucket;
    }
    m = w;
    src = cand;
  }
  if (src != cand) std::memcpy(cand, src, m * sizeof(uint64_t));
  std::nth_element(cand, cand + (want - 1), cand + m, [](uint64_t a, uint64_t b) { return a > b; });
  return cand[want - 1];
}

}  // namespace

void eg_sparse_top_k(const double* v, size_t n, size_t k, uint32_t* out, uint32_t offset, uint64_t* scratch,
                     uint32_t* picked) {
  uint64_t* keys = scratch;
  uint64_t* cand = scratch + n;
  for (size_t t = 0; t < n; ++t) keys[t] = order_key(v[t]);
  const uint64_t threshold = kth_largest_key(keys, n, k, cand);
  size_t above = 0;
  for (size_t t = 0; t < n; ++t) above += keys[t] > threshold;
  // The k largest: every value above the threshold, then the first (k - above) equal to it, in index order.
  // Written without branches: the picks are a quarter of the values, at random places.
  size_t ties = k - above, w = 0;
  for (size_t t = 0; t < n; ++t) {
    const uint64_t key = keys[t];
    const size_t tie = key == threshold && ties > 0;
    const size_t take = (key > threshold) | tie;
    ties -= tie;
    picked[w] = offset + uint32_t(t);
    w += take;
  }
  std::memcpy(out, picked, k * sizeof(uint32_t));
}

eg_status SparseEncoder::create(uint32_t dim, std::vector<eg_sparse_block> blocks,
                                std::unique_ptr<eg_whitening> whitening, std::unique_ptr<SparseEncoder>* out) {
  if (dim == 0 || dim > kMaxDim || blocks.empty()) return eg_status::bad_geometry;
  uint32_t size = 1;
  while (size < dim) size *= 2;
  if (whitening) {
    const eg_whitening& w = *whitening;
    if (w.d > dim || w.mean.size() != dim || w.f.size() != w.d || w.basis.size() != size_t(w.d) * dim ||
        !std::isfinite(w.g)) {
      return eg_status::bad_geometry;
    }
  }
  std::vector<uint8_t> seen;
  uint64_t begin = 0, active = 0;
  uint32_t widest = 0;
  try {
    seen.resize(size);
    for (const eg_sparse_block& b : blocks) {
      if (b.begin != begin || b.neurons < 2 || b.neurons > kMaxNeurons || b.k < 1 || b.k >= b.neurons ||
          (b.white && !whitening)) {
        return eg_status::bad_geometry;
      }
      const size_t rounds = (size_t(b.neurons) + size - 1) / size;
      if (b.in_sign.size() != rounds * dim || b.perm.size() != rounds * size || b.mid_sign.size() != rounds * size)
        return eg_status::bad_geometry;
      if (!std::all_of(b.in_sign.begin(), b.in_sign.end(), is_sign) ||
          !std::all_of(b.mid_sign.begin(), b.mid_sign.end(), is_sign))
        return eg_status::bad_geometry;
      for (size_t r = 0; r < rounds; ++r) {
        if (!is_permutation(&b.perm[r * size], size, seen)) return eg_status::bad_geometry;
      }
      begin += b.neurons;
      active += b.k;
      widest = std::max(widest, b.neurons);
    }
    if (begin > (uint64_t(1) << 32) - 1) return eg_status::bad_geometry;
    std::unique_ptr<SparseEncoder> enc(new SparseEncoder());
    enc->dim_ = dim;
    enc->size_ = size;
    enc->active_ = uint32_t(active);
    enc->widest_ = widest;
    enc->set_simd(true);
    if (whitening) {
      const eg_whitening& w = *whitening;
      enc->basis_t_.resize(size_t(w.d) * dim);
      for (size_t i = 0; i < w.d; ++i) {
        for (size_t t = 0; t < dim; ++t) enc->basis_t_[t * w.d + i] = w.basis[i * dim + t];
      }
      enc->f_minus_g_.resize(w.d);
      for (size_t i = 0; i < w.d; ++i) enc->f_minus_g_[i] = double(w.f[i]) - w.g;
    }
    enc->blocks_ = std::move(blocks);
    enc->whitening_ = std::move(whitening);
    *out = std::move(enc);
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  }
  return eg_status::ok;
}

void SparseEncoder::whiten_row(const float* x, double* work, double* proj, float* out) const {
  const whiten_args a{dim_,
                      whitening_->d,
                      whitening_->mean.data(),
                      whitening_->basis.data(),
                      basis_t_.data(),
                      f_minus_g_.data(),
                      whitening_->g};
#if defined(EG_HAVE_AVX2_PATH)
  if (simd_) return whiten_avx2(a, x, work, proj, out);
#endif
  whiten_portable(a, x, work, proj, out);
}

void SparseEncoder::rotate(const eg_sparse_block& b, const float* x, double* values, double* buf) const {
#if defined(EG_HAVE_AVX2_PATH)
  if (simd_) return rotate_avx2(b, dim_, size_, x, values, buf);
#endif
  rotate_portable(b, dim_, size_, x, values, buf);
}

void SparseEncoder::set_simd(bool on) {
  // The AVX2 variants when the process uses AVX2 kernels (ENGRAM_SIMD=scalar turns them off too). On arm64 the
  // portable build already vectorises with NEON, which has no wider registers to offer.
  simd_ = on && std::strcmp(eg_kernels_active().name, "avx2") == 0;
}

eg_status SparseEncoder::encode(const float* features, size_t rows, uint32_t* out, size_t* bad_row) const {
  std::vector<double> values, buf, work, proj;
  std::vector<uint64_t> scratch;
  std::vector<uint32_t> picked;
  std::vector<float> white;
  try {
    values.resize(widest_);
    scratch.resize(2 * size_t(widest_));
    picked.resize(size_t(widest_) + 1);
    buf.resize(size_);
    if (whitening_) {
      work.resize(dim_);
      proj.resize(whitening_->d);
      white.resize(dim_);
    }
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  }
  for (size_t r = 0; r < rows; ++r) {
    const float* x = features + r * dim_;
    if (whitening_) {
      whiten_row(x, work.data(), proj.data(), white.data());
      for (size_t t = 0; t < dim_; ++t) {
        if (!std::isfinite(white[t])) {
          if (bad_row) *bad_row = r;
          return eg_status::bad_value;
        }
      }
    }
    uint32_t* o = out + r * active_;
    for (const eg_sparse_block& b : blocks_) {
      rotate(b, b.white ? white.data() : x, values.data(), buf.data());
      eg_sparse_top_k(values.data(), b.neurons, b.k, o, b.begin, scratch.data(), picked.data());
      o += b.k;
    }
  }
  return eg_status::ok;
}

eg_status SparseEncoder::whiten(const float* features, size_t rows, float* out) const {
  if (!whitening_) return eg_status::bad_geometry;
  std::vector<double> work, proj;
  try {
    work.resize(dim_);
    proj.resize(whitening_->d);
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  }
  for (size_t r = 0; r < rows; ++r) whiten_row(features + r * dim_, work.data(), proj.data(), out + r * dim_);
  return eg_status::ok;
}

}  // namespace engram
