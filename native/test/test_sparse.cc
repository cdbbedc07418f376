// Sparse expansion encoder: the Walsh-Hadamard transform, top-k with ties, and the geometry checks.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "check.h"
#include "sparse.h"

TEST("fwht of a unit vector is a row of the Hadamard matrix, and twice is n times the input") {
  std::vector<double> a = {0, 1, 0, 0, 0, 0, 0, 0};
  engram::eg_fwht(a.data(), a.size());
  CHECK(a == (std::vector<double>{1, -1, 1, -1, 1, -1, 1, -1}));
  std::vector<double> x = {3, -1, 4, 1, -5, 9, 2, -6, 5, 3, -5, 8, 9, -7, 9, 3};
  std::vector<double> y = x;
  engram::eg_fwht(y.data(), y.size());
  engram::eg_fwht(y.data(), y.size());
  for (size_t i = 0; i < x.size(); ++i) CHECK_EQ(y[i], 16 * x[i]);
}

TEST("sparse_top_k keeps the k largest, ascending, ties to the lower index") {
  const std::vector<double> v = {1, 5, 3, 5, 2, 5, 0};
  std::vector<uint64_t> scratch(2 * v.size());
  std::vector<uint32_t> picked(v.size() + 1);
  std::vector<uint32_t> out(2);
  engram::eg_sparse_top_k(v.data(), v.size(), 2, out.data(), 100, scratch.data(), picked.data());
  CHECK(out == (std::vector<uint32_t>{101, 103}));
  out.resize(4);
  engram::eg_sparse_top_k(v.data(), v.size(), 4, out.data(), 0, scratch.data(), picked.data());
  CHECK(out == (std::vector<uint32_t>{1, 2, 3, 5}));
  // -0 ties with +0 (as in the reference, where -0 === 0); negative values order below them.
  const std::vector<double> z = {-1.5, -0.0, 0.0, -2.0, -0.0, -1e-300};
  engram::eg_sparse_top_k(z.data(), z.size(), 3, out.data(), 0, scratch.data(), picked.data());
  CHECK(std::vector<uint32_t>(out.begin(), out.begin() + 3) == (std::vector<uint32_t>{1, 2, 4}));
  engram::eg_sparse_top_k(z.data(), z.size(), 4, out.data(), 0, scratch.data(), picked.data());
  CHECK(out == (std::vector<uint32_t>{1, 2, 4, 5}));
}

TEST("SparseEncoder refuses blocks that do not fit the geometry") {
  auto block = [](uint32_t begin, bool white) {
    engram::eg_sparse_block b;
    b.begin = begin;
    b.neurons = 4;
    b.k = 1;
    b.white = white;
    b.in_sign = {1, -1, 1};
    b.perm = {0, 1, 2, 3};
    b.mid_sign = {1, 1, -1, 1};
    return b;
  };
  std::unique_ptr<engram::SparseEncoder> enc;
  CHECK_OK(engram::SparseEncoder::create(3, {block(0, false), block(4, false)}, nullptr, &enc));
  CHECK_EQ(enc->active(), 2u);
  const std::vector<float> x = {0, 0, 0};
  std::vector<uint32_t> out(2);
  CHECK_OK(enc->encode(x.data(), 1, out.data(), nullptr));
  CHECK(out == (std::vector<uint32_t>{0, 4}));
  const int bad = int(engram::eg_status::bad_geometry);
  CHECK_EQ(int(engram::SparseEncoder::create(3, {block(1, false)}, nullptr, &enc)), bad);
  CHECK_EQ(int(engram::SparseEncoder::create(3, {block(0, true)}, nullptr, &enc)), bad);
  engram::eg_sparse_block twice = block(0, false);
  twice.perm = {0, 1, 1, 3};
  CHECK_EQ(int(engram::SparseEncoder::create(3, {twice}, nullptr, &enc)), bad);
  engram::eg_sparse_block half = block(0, false);
  half.in_sign[2] = 0.5;
  CHECK_EQ(int(engram::SparseEncoder::create(3, {half}, nullptr, &enc)), bad);
}

TEST("SparseEncoder gives the same codes and whitened rows with and without its SIMD variants") {
  const uint32_t dim = 300, size = 512, neurons = 700;
  uint64_t state = 12345;
  auto next = [&state]() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  auto make_block = [&](uint32_t begin, bool white) {
    engram::eg_sparse_block b;
    b.begin = begin;
    b.neurons = neurons;
    b.k = 100;
    b.white = white;
    for (uint32_t r = 0; r < 2; ++r) {
      for (uint32_t t = 0; t < dim; ++t) b.in_sign.push_back(next() & 1 ? 1.0 : -1.0);
      std::vector<uint32_t> p(size);
      for (uint32_t i = 0; i < size; ++i) p[i] = i;
      for (uint32_t i = size - 1; i > 0; --i) std::swap(p[i], p[next() % (i + 1)]);
      b.perm.insert(b.perm.end(), p.begin(), p.end());
      for (uint32_t t = 0; t < size; ++t) b.mid_sign.push_back(next() & 1 ? 1.0 : -1.0);
    }
    return b;
  };
  auto uniform = [&]() { return float(next()) / 4294967296.0f * 2 - 1; };
  auto w = std::make_unique<engram::eg_whitening>();
  w->d = 40;
  for (uint32_t t = 0; t < dim; ++t) w->mean.push_back(uniform());
  for (uint32_t i = 0; i < w->d; ++i) w->f.push_back(uniform() + 2);
  w->g = 0.75;
  for (uint32_t i = 0; i < w->d * dim; ++i) w->basis.push_back(uniform());
  std::unique_ptr<engram::SparseEncoder> enc;
  CHECK_OK(engram::SparseEncoder::create(dim, {make_block(0, false), make_block(neurons, true)}, std::move(w), &enc));
  const size_t rows = 3;
  std::vector<float> x(rows * dim);
  for (float& v : x) v = uniform() * 10;
  std::vector<uint32_t> a(rows * enc->active()), b(a.size());
  std::vector<float> wa(rows * dim), wb(wa.size());
  enc->set_simd(true);
  CHECK_OK(enc->encode(x.data(), rows, a.data(), nullptr));
  CHECK_OK(enc->whiten(x.data(), rows, wa.data()));
  enc->set_simd(false);
  CHECK(!enc->simd());
  CHECK_OK(enc->encode(x.data(), rows, b.data(), nullptr));
  CHECK_OK(enc->whiten(x.data(), rows, wb.data()));
  CHECK(a == b);
  CHECK(std::memcmp(wa.data(), wb.data(), wa.size() * sizeof(float)) == 0);
}

TEST("SparseEncoder with a centring (a whitening of no directions) whitens to x - mean") {
  const uint32_t dim = 20, size = 32;
  engram::eg_sparse_block b;
  b.begin = 0;
  b.neurons = 48;
  b.k = 12;
  b.white = true;
  for (uint32_t r = 0; r < 2; ++r) {
    for (uint32_t t = 0; t < dim; ++t) b.in_sign.push_back(t % 3 ? 1.0 : -1.0);
    for (uint32_t i = 0; i < size; ++i) b.perm.push_back((i * 7 + r) % size);
    for (uint32_t t = 0; t < size; ++t) b.mid_sign.push_back(t % 5 ? -1.0 : 1.0);
  }
  auto w = std::make_unique<engram::eg_whitening>();
  w->d = 0;
  for (uint32_t t = 0; t < dim; ++t) w->mean.push_back(0.25f * float(t) - 1.0f);
  w->g = 1.0;
  std::unique_ptr<engram::SparseEncoder> enc;
  CHECK_OK(engram::SparseEncoder::create(dim, {b}, std::move(w), &enc));
  std::vector<float> x(2 * dim), z(x.size());
  for (uint32_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) - 2.5f;
  for (bool simd : {true, false}) {
    enc->set_simd(simd);
    CHECK_OK(enc->whiten(x.data(), 2, z.data()));
    for (uint32_t i = 0; i < x.size(); ++i) CHECK(std::fabs(z[i] - (x[i] - (0.25f * float(i % dim) - 1.0f))) < 1e-6f);
    std::vector<uint32_t> codes(2 * enc->active());
    CHECK_OK(enc->encode(x.data(), 2, codes.data(), nullptr));
  }
}
