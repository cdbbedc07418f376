// The sparse expansion encoder (sparse.h): rotation, top-k and whitening in the TypeScript reference's order.
#include "sparse.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "eg_port.h"

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

void eg_fwht(double* a, size_t n) {
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

void eg_sparse_top_k(const double* v, size_t n, size_t k, uint32_t* out, uint32_t offset, double* scratch) {
  std::memcpy(scratch, v, n * sizeof(double));
  // Quickselect for the k-th largest value, as the reference writes it. The bounds checks stand in for the
  // reference's reads past the array (undefined, which compares false): they never trigger on finite values.
  const ptrdiff_t last = ptrdiff_t(n) - 1;
  const ptrdiff_t want = ptrdiff_t(k) - 1;
  ptrdiff_t lo = 0, hi = last;
  while (lo < hi) {
    const double pivot = scratch[(lo + hi) >> 1];
    ptrdiff_t i = lo, j = hi;
    while (i <= j) {
      while (i <= last && scratch[i] > pivot) ++i;
      while (j >= 0 && scratch[j] < pivot) --j;
      if (i <= j) {
        std::swap(scratch[i], scratch[j]);
        ++i;
        --j;
      }
    }
    if (want <= j) {
      hi = j;
    } else if (want >= i) {
      lo = i;
    } else {
      break;
    }
  }
  const double threshold = scratch[want];
  ptrdiff_t above = 0;
  for (size_t t = 0; t < n; ++t) above += v[t] > threshold;
  ptrdiff_t ties = ptrdiff_t(k) - above;
  size_t w = 0;
  for (size_t t = 0; t < n && w < k; ++t) {
    if (v[t] > threshold || (v[t] == threshold && ties-- > 0)) out[w++] = offset + uint32_t(t);
  }
}

eg_status SparseEncoder::create(uint32_t dim, std::vector<eg_sparse_block> blocks,
                                std::unique_ptr<eg_whitening> whitening, std::unique_ptr<SparseEncoder>* out) {
  if (dim == 0 || dim > kMaxDim || blocks.empty()) return eg_status::bad_geometry;
  uint32_t size = 1;
  while (size < dim) size *= 2;
  if (whitening) {
    const eg_whitening& w = *whitening;
    if (w.d == 0 || w.d > dim || w.mean.size() != dim || w.f.size() != w.d || w.basis.size() != size_t(w.d) * dim ||
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
  const eg_whitening& w = *whitening_;
  const size_t dim = dim_, d = w.d;
  for (size_t t = 0; t < dim; ++t) work[t] = double(x[t]) - double(w.mean[t]);
  // V^T (x - mean): each direction's sum runs in dimension order (the reference's), over all directions at
  // once so the inner loop vectorises.
  std::fill(proj, proj + d, 0.0);
  for (size_t t = 0; t < dim; ++t) {
    const double xt = work[t];
    const float* EG_RESTRICT col = &basis_t_[t * d];
    double* EG_RESTRICT p = proj;
    for (size_t i = 0; i < d; ++i) p[i] += double(col[i]) * xt;
  }
  for (size_t i = 0; i < d; ++i) proj[i] *= f_minus_g_[i];
  for (size_t t = 0; t < dim; ++t) work[t] *= w.g;
  for (size_t i = 0; i < d; ++i) {
    const double p = proj[i];
    const float* EG_RESTRICT row = &w.basis[i * dim];
    double* EG_RESTRICT z = work;
    for (size_t t = 0; t < dim; ++t) z[t] += double(row[t]) * p;
  }
  for (size_t t = 0; t < dim; ++t) out[t] = float(work[t]);
}

void SparseEncoder::rotate(const eg_sparse_block& b, const float* x, double* values, double* buf) const {
  const size_t dim = dim_, size = size_;
  const size_t rounds = b.perm.size() / size;
  size_t written = 0;
  for (size_t r = 0; r < rounds; ++r) {
    const uint32_t* perm = &b.perm[r * size];
    const double* in_sign = &b.in_sign[r * dim];
    const double* mid_sign = &b.mid_sign[r * size];
    std::fill(buf, buf + size, 0.0);
    for (size_t t = 0; t < dim; ++t) buf[perm[t]] = double(x[t]) * in_sign[t];
    eg_fwht(buf, size);
    for (size_t t = 0; t < size; ++t) buf[t] *= mid_sign[t];
    eg_fwht(buf, size);
    const size_t take = std::min<size_t>(size, b.neurons - written);
    std::memcpy(values + written, buf, take * sizeof(double));
    written += take;
  }
}

eg_status SparseEncoder::encode(const float* features, size_t rows, uint32_t* out, size_t* bad_row) const {
  std::vector<double> values, scratch, buf, work, proj;
  std::vector<float> white;
  try {
    values.resize(widest_);
    scratch.resize(widest_);
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
      eg_sparse_top_k(values.data(), b.neurons, b.k, o, b.begin, scratch.data());
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
