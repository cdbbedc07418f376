// The passes of the resampler, in fixed point. Arithmetic mirrors src/images/resample.ts: integer sums (exact,
// so any order and any vector width gives the same value), the same shifts and clamps, and the last step,
// value * scale + bias, in float without fused multiply-add (-ffp-contract=off), through a table of the 256
// possible values that the TypeScript reference computes the same way.
#include "resample.h"

#include <cstddef>
#include <cstring>
#include <vector>

#include "eg_port.h"

#if defined(EG_X86_64)
#include <emmintrin.h>  // SSE2: part of every x86-64 CPU
#if defined(EG_HAVE_AVX2_PATH)
#include <immintrin.h>  // AVX2, only inside functions compiled for it (EG_TARGET_AVX2)
#endif
#elif defined(EG_AARCH64)
#include <arm_neon.h>  // part of every AArch64 CPU
#endif

namespace engram {

namespace {

// A column holds value x 64 (a weight sum of 2^14 shifted right by 8); a row sum of 2^6 x 2^14 shifted right
// by 20 is the 8-bit value. Each shift rounds to nearest through the half added before it.
constexpr int kColumnShift = 8;
constexpr int32_t kColumnRound = 1 << (kColumnShift - 1);
constexpr int kRowShift = kTapBits + kTapBits - kColumnShift;
constexpr int32_t kRowRound = 1 << (kRowShift - 1);

// Whether every output of an axis reads inside the source with a count in 1..taps and weighs at most
// kMaxTapMass: then every sum of the passes fits in 32 bits and every column in 16.
bool taps_ok(const eg_taps& a, size_t n, size_t size) {
  for (size_t i = 0; i < n; ++i) {
    if (a.first[i] < 0 || a.count[i] < 1 || size_t(a.count[i]) > a.taps ||
        size_t(a.first[i]) + size_t(a.count[i]) > size) {
      return false;
    }
    int32_t mass = 0;
    for (size_t t = 0; t < size_t(a.count[i]); ++t) {
      const int32_t w = a.weights[i * a.taps + t];
      mass += w < 0 ? -w : w;
      if (mass > kMaxTapMass) return false;
    }
  }
  return true;
}

inline uint8_t clamp8(int32_t v) { return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v); }

// Vertical taps for one output row over `span` bytes of n source rows `row_bytes` apart:
// column[i] = (line_0[i] * w[0] + line_1[i] * w[1] + ... + 2^7) >> 8.
void vertical_taps(const uint8_t* EG_RESTRICT line, size_t row_bytes, const int16_t* w, size_t n, size_t span,
                   int16_t* EG_RESTRICT column) {
  size_t i = 0;
#if defined(EG_X86_64)
  // Sixteen bytes at a time, two rows per multiply-add: the bytes of rows t and t + 1 interleaved as 16-bit
  // pairs meet the weight pair (w[t], w[t + 1]) in one pmaddwd. An odd last row pairs with a zero row.
  const __m128i zero = _mm_setzero_si128();
  const __m128i round = _mm_set1_epi32(kColumnRound);
  for (; i + 16 <= span; i += 16) {
    __m128i a0 = round, a1 = round, a2 = round, a3 = round;
    for (size_t t = 0; t < n; t += 2) {
      const uint8_t* p = line + t * row_bytes + i;
      const bool two = t + 1 < n;
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i y = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + row_bytes)) : zero;
      const uint32_t w1 = two ? uint16_t(w[t + 1]) : 0;
      const __m128i pair = _mm_set1_epi32(int32_t(uint32_t(uint16_t(w[t])) | (w1 << 16)));
      const __m128i lo = _mm_unpacklo_epi8(x, y);
      const __m128i hi = _mm_unpackhi_epi8(x, y);
      a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi8(lo, zero), pair));
      a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi8(lo, zero), pair));
      a2 = _mm_add_epi32(a2, _mm_madd_epi16(_mm_unpacklo_epi8(hi, zero), pair));
      a3 = _mm_add_epi32(a3, _mm_madd_epi16(_mm_unpackhi_epi8(hi, zero), pair));
    }
    // The packs saturate, but the tap mass limit keeps every column inside int16 already.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(column + i),
                     _mm_packs_epi32(_mm_srai_epi32(a0, kColumnShift), _mm_srai_epi32(a1, kColumnShift)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(column + i + 8),
                     _mm_packs_epi32(_mm_srai_epi32(a2, kColumnShift), _mm_srai_epi32(a3, kColumnShift)));
  }
#elif defined(EG_AARCH64)
  // Eight bytes at a time, one widening multiply-accumulate per row.
  const int32x4_t round = vdupq_n_s32(kColumnRound);
  for (; i + 8 <= span; i += 8) {
    int32x4_t lo = round, hi = round;
    for (size_t t = 0; t < n; ++t) {
      const int16x8_t x = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(line + t * row_bytes + i)));
      lo = vmlal_n_s16(lo, vget_low_s16(x), w[t]);
      hi = vmlal_n_s16(hi, vget_high_s16(x), w[t]);
    }
    vst1q_s16(column + i,
              vcombine_s16(vmovn_s32(vshrq_n_s32(lo, kColumnShift)), vmovn_s32(vshrq_n_s32(hi, kColumnShift))));
  }
#endif
  for (; i < span; ++i) {
    int32_t a = kColumnRound;
    for (size_t t = 0; t < n; ++t) a += int32_t(line[t * row_bytes + i]) * w[t];
    column[i] = int16_t(a >> kColumnShift);
  }
}

#if defined(EG_HAVE_AVX2_PATH)
// The same sums 32 bytes at a time. The 256-bit unpacks and packs work within each 128-bit half, so the two
// halves hold columns 0-7 and 16-23, 8-15 and 24-31 before the last permute puts them in order.
EG_TARGET_AVX2 void vertical_taps_avx2(const uint8_t* EG_RESTRICT line, size_t row_bytes, const int16_t* w, size_t n,
                                       size_t span, int16_t* EG_RESTRICT column) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i round = _mm256_set1_epi32(kColumnRound);
  size_t i = 0;
  for (; i + 32 <= span; i += 32) {
    __m256i a0 = round, a1 = round, a2 = round, a3 = round;
    for (size_t t = 0; t < n; t += 2) {
      const uint8_t* p = line + t * row_bytes + i;
      const bool two = t + 1 < n;
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      const __m256i y = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + row_bytes)) : zero;
      const uint32_t w1 = two ? uint16_t(w[t + 1]) : 0;
      const __m256i pair = _mm256_set1_epi32(int32_t(uint32_t(uint16_t(w[t])) | (w1 << 16)));
      const __m256i lo = _mm256_unpacklo_epi8(x, y);
      const __m256i hi = _mm256_unpackhi_epi8(x, y);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi8(lo, zero), pair));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi8(lo, zero), pair));
      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_unpacklo_epi8(hi, zero), pair));
      a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_unpackhi_epi8(hi, zero), pair));
    }
    const __m256i p01 = _mm256_packs_epi32(_mm256_srai_epi32(a0, kColumnShift), _mm256_srai_epi32(a1, kColumnShift));
    const __m256i p23 = _mm256_packs_epi32(_mm256_srai_epi32(a2, kColumnShift), _mm256_srai_epi32(a3, kColumnShift));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(column + i), _mm256_permute2x128_si256(p01, p23, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(column + i + 16), _mm256_permute2x128_si256(p01, p23, 0x31));
  }
  if (i < span) vertical_taps(line + i, row_bytes, w, n, span - i, column + i);
}
#endif

using vertical_fn = void (*)(const uint8_t*, size_t, const int16_t*, size_t, size_t, int16_t*);

// Chosen once per process, like the memory kernels.
vertical_fn vertical_pass() {
#if defined(EG_HAVE_AVX2_PATH)
  static const vertical_fn chosen = eg_cpu_has_avx2() ? vertical_taps_avx2 : vertical_taps;
  return chosen;
#else
  return vertical_taps;
#endif
}

// Source columns [x0, x1) that the horizontal taps read.
void column_span(const eg_taps& h, size_t width, size_t* x0, size_t* x1) {
  size_t lo = size_t(h.first[0]), hi = 0;
  for (size_t x = 0; x < width; ++x) {
    if (size_t(h.first[x]) < lo) lo = size_t(h.first[x]);
    const size_t end = size_t(h.first[x]) + size_t(h.count[x]);
    if (end > hi) hi = end;
  }
  *x0 = lo;
  *x1 = hi;
}

size_t most_taps(const eg_taps& h, size_t width) {
  size_t most = 1;
  for (size_t x = 0; x < width; ++x) most = size_t(h.count[x]) > most ? size_t(h.count[x]) : most;
  return most;
}

// Every RGB pixel runs the row's largest tap count rounded up to even, `2 * pairs` taps, from a table that
// holds its weights zero-padded past its own count: no pixel pays a mispredicted loop exit. The extra taps
// read past the column's span into padding that is zeroed (and weighs 0 anyway); sums are exact, so the
// extra zero terms change nothing. Where the scratch goes, in int16 values, each part on 16 bytes:
struct Layout {
  size_t pairs;    // tap pairs an RGB pixel runs
  size_t column;   // the row after the vertical taps, with its padding
  size_t weights;  // the padded weight table (x86: each pair repeated four times, one 16-byte vector)
  size_t row;      // the row after the horizontal taps, as bytes (RGB: R, G, B and a spare per pixel)
  size_t total;    // + 8: room to align the start to 16 bytes
};

constexpr size_t round8(size_t n) { return (n + 7) & ~size_t(7); }

Layout layout_for(size_t span, size_t most, size_t width, size_t sc) {
  Layout l;
  l.pairs = (most + 1) / 2;
  l.column = round8(span + 6 * l.pairs + 8);  // the widest read: 8 int16 at 6 per pair past a pixel's first
#if defined(EG_X86_64)
  l.weights = sc == 3 ? (width + 1) / 2 * 2 * l.pairs * 8 : width * 2 * l.pairs;
#else
  l.weights = width * 2 * l.pairs;
#endif
  l.weights = round8(l.weights);
  l.row = round8((width * (sc == 3 ? 4 : 1) + 1) / 2);
  l.total = l.column + l.weights + l.row + 8;
  return l;
}

// The padded weight table: pixel x's weights at x * 2 * pairs, zero past its count. x86 RGB: the pair
// (w[2j], w[2j + 1]) four times (8 int16, one 16-byte vector), pixels x and x + 1 side by side for each pair
// (one 32-byte vector for two pixels): pair j of pixel x at ((x / 2) * pairs + j) * 16 + (x % 2) * 8.
#if defined(EG_X86_64)
#define EG_RGB_PAIR_TABLE true
#else
#define EG_RGB_PAIR_TABLE false
#endif
inline size_t pair_at(size_t x, size_t j, size_t pairs) { return ((x / 2) * pairs + j) * 16 + (x % 2) * 8; }

void fill_weights(const eg_taps& h, size_t width, size_t pairs, size_t sc, int16_t* out) {
  const size_t taps = 2 * pairs;
  const bool rgb_vectors = sc == 3 && EG_RGB_PAIR_TABLE;
  for (size_t x = 0; x < width; ++x) {
    for (size_t t = 0; t < taps; ++t) {
      const int16_t w = t < size_t(h.count[x]) ? h.weights[x * h.taps + t] : 0;
      if (rgb_vectors) {
        for (size_t lane = 0; lane < 4; ++lane) out[pair_at(x, t / 2, pairs) + lane * 2 + t % 2] = w;
      } else {
        out[x * taps + t] = w;
      }
    }
  }
}

// Horizontal taps for one RGB row (3 interleaved int16 per column pixel) into R, G, B, spare bytes.
template <size_t P>
void horizontal_rgb_n(const int16_t* EG_RESTRICT column, const int32_t* EG_RESTRICT first, size_t x0,
                      const int16_t* EG_RESTRICT wt, size_t pairs_rt, size_t width, uint8_t* EG_RESTRICT row) {
  const size_t pairs = P ? P : pairs_rt;
#if defined(EG_X86_64)
  // One pixel is one vector (R, G, B, spare): taps t and t + 1 interleaved as 16-bit pairs meet the weight
  // pair in one pmaddwd.
  const __m128i round = _mm_set1_epi32(kRowRound);
  for (size_t x = 0; x < width; ++x) {
    const int16_t* p = column + (size_t(first[x]) - x0) * 3;
    __m128i a = round;
    for (size_t j = 0; j < pairs; ++j) {
      const __m128i u = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 6 * j));
      const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 6 * j + 3));
      const __m128i wq = _mm_load_si128(reinterpret_cast<const __m128i*>(wt + pair_at(x, j, pairs)));
      a = _mm_add_epi32(a, _mm_madd_epi16(_mm_unpacklo_epi16(u, v), wq));
    }
    const __m128i s = _mm_packs_epi32(_mm_srai_epi32(a, kRowShift), _mm_setzero_si128());
    const int32_t bytes = _mm_cvtsi128_si32(_mm_packus_epi16(s, s));  // clamped to 0..255
    std::memcpy(row + 4 * x, &bytes, 4);
  }
#elif defined(EG_AARCH64)
  const int32x4_t round = vdupq_n_s32(kRowRound);
  for (size_t x = 0; x < width; ++x) {
    const int16_t* p = column + (size_t(first[x]) - x0) * 3;
    const int16_t* w = wt + x * 2 * pairs;
    int32x4_t a = round;
    for (size_t t = 0; t < 2 * pairs; ++t) a = vmlal_n_s16(a, vld1_s16(p + 3 * t), w[t]);
    const uint16x4_t s = vqmovun_s32(vshrq_n_s32(a, kRowShift));                                   // negative -> 0
    const uint32_t bytes = vget_lane_u32(vreinterpret_u32_u8(vqmovn_u16(vcombine_u16(s, s))), 0);  // > 255 -> 255
    std::memcpy(row + 4 * x, &bytes, 4);
  }
#else
  for (size_t x = 0; x < width; ++x) {
    const int16_t* p = column + (size_t(first[x]) - x0) * 3;
    const int16_t* w = wt + x * 2 * pairs;
    for (size_t k = 0; k < 3; ++k) {
      int32_t a = kRowRound;
      for (size_t t = 0; t < 2 * pairs; ++t) a += int32_t(p[3 * t + k]) * w[t];
      row[4 * x + k] = clamp8(a >> kRowShift);
    }
    row[4 * x + 3] = 0;
  }
#endif
}

#if defined(EG_HAVE_AVX2_PATH)
// Two pixels at a time, one per 128-bit half: one 16-byte load holds taps t and t + 1 of a pixel (R, G, B,
// R', G', B', ...), and a byte shuffle turns it into the pairs (R, R'), (G, G'), (B, B'), (0, 0) that meet the
// weight pair in one vpmaddwd. An odd last pixel goes through the SSE2 loop.
template <size_t P>
EG_TARGET_AVX2 void horizontal_rgb_avx2(const int16_t* EG_RESTRICT column, const int32_t* EG_RESTRICT first, size_t x0,
                                        const int16_t* EG_RESTRICT wt, size_t pairs_rt, size_t width,
                                        uint8_t* EG_RESTRICT row) {
  const size_t pairs = P ? P : pairs_rt;
  const __m256i round = _mm256_set1_epi32(kRowRound);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i to_pairs = _mm256_setr_epi8(0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1,  //
                                            0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, -1, -1, -1, -1);
  size_t x = 0;
  for (; x + 2 <= width; x += 2) {
    const int16_t* p0 = column + (size_t(first[x]) - x0) * 3;
    const int16_t* p1 = column + (size_t(first[x + 1]) - x0) * 3;
    __m256i a = round;
    for (size_t j = 0; j < pairs; ++j) {
      const __m128i d0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p0 + 6 * j));
      const __m128i d1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1 + 6 * j));
      const __m256i d = _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(d0), d1, 1), to_pairs);
      const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wt + pair_at(x, j, pairs)));
      a = _mm256_add_epi32(a, _mm256_madd_epi16(d, wq));
    }
    const __m256i s = _mm256_packs_epi32(_mm256_srai_epi32(a, kRowShift), zero);
    const __m256i b = _mm256_packus_epi16(s, s);  // clamped to 0..255; bytes 0-3 of each half are a pixel
    const int32_t q0 = _mm256_cvtsi256_si32(b);
    const int32_t q1 = _mm_cvtsi128_si32(_mm256_extracti128_si256(b, 1));
    std::memcpy(row + 4 * x, &q0, 4);
    std::memcpy(row + 4 * x + 4, &q1, 4);
  }
  if (x < width) horizontal_rgb_n<P>(column, first + x, x0, wt + pair_at(x, 0, pairs), pairs_rt, 1, row + 4 * x);
}
#endif

void horizontal_rgb(const int16_t* column, const int32_t* first, size_t x0, const int16_t* wt, size_t pairs,
                    size_t width, uint8_t* row) {
#if defined(EG_HAVE_AVX2_PATH)
  static const bool avx2 = eg_cpu_has_avx2();
  if (avx2) {
    switch (pairs) {
      case 1: return horizontal_rgb_avx2<1>(column, first, x0, wt, pairs, width, row);
      case 2: return horizontal_rgb_avx2<2>(column, first, x0, wt, pairs, width, row);
      case 3: return horizontal_rgb_avx2<3>(column, first, x0, wt, pairs, width, row);
      case 4: return horizontal_rgb_avx2<4>(column, first, x0, wt, pairs, width, row);
      default: return horizontal_rgb_avx2<0>(column, first, x0, wt, pairs, width, row);
    }
  }
#endif
  switch (pairs) {
    case 1: return horizontal_rgb_n<1>(column, first, x0, wt, pairs, width, row);
    case 2: return horizontal_rgb_n<2>(column, first, x0, wt, pairs, width, row);
    case 3: return horizontal_rgb_n<3>(column, first, x0, wt, pairs, width, row);
    case 4: return horizontal_rgb_n<4>(column, first, x0, wt, pairs, width, row);
    default: return horizontal_rgb_n<0>(column, first, x0, wt, pairs, width, row);
  }
}

void horizontal_grey(const int16_t* EG_RESTRICT column, const int32_t* EG_RESTRICT first, size_t x0,
                     const int16_t* EG_RESTRICT wt, size_t pairs, size_t width, uint8_t* EG_RESTRICT row) {
  const size_t taps = 2 * pairs;
  for (size_t x = 0; x < width; ++x) {
    const int16_t* p = column + (size_t(first[x]) - x0);
    const int16_t* w = wt + x * taps;
    int32_t a = kRowRound;
    for (size_t t = 0; t < taps; ++t) a += int32_t(p[t]) * w[t];
    row[x] = clamp8(a >> kRowShift);
  }
}

// value * scale + bias for the 256 values of each output channel: the passes' last step, done once.
struct Levels {
  float at[3][256];
  Levels(const eg_tensor_slot& dst) {
    for (size_t k = 0; k < dst.channels; ++k) {
      for (int v = 0; v < 256; ++v) at[k][v] = float(v) * dst.scale[k] + dst.bias[k];
    }
  }
};

// Row y of R, G, B, spare bytes into three planes, plane k from source channel source[k], sixteen pixels at a
// time with whole-vector stores. Seen from the source side (source channel j goes to plane to[j]) no vector is
// picked by a run-time index. Returns false, writing nothing, when source[] is not a permutation of the three
// channels (the caller's general loop then runs).
bool rgb_to_planes(const uint8_t* EG_RESTRICT row, size_t width, size_t y, const eg_tensor_slot& dst,
                   const Levels& levels) {
  size_t to[3] = {3, 3, 3};
  for (size_t k = 0; k < 3; ++k) to[dst.source[k]] = k;
  if (to[0] == 3 || to[1] == 3 || to[2] == 3) return false;
  const size_t plane = dst.width * dst.height;
  float* EG_RESTRICT o[3] = {dst.out + to[0] * plane + y * width, dst.out + to[1] * plane + y * width,
                             dst.out + to[2] * plane + y * width};
  size_t x = 0;
#if defined(EG_X86_64)
  const __m128i zero = _mm_setzero_si128();
  __m128 vs[3], vb[3];
  for (size_t j = 0; j < 3; ++j) {
    vs[j] = _mm_set1_ps(dst.scale[to[j]]);
    vb[j] = _mm_set1_ps(dst.bias[to[j]]);
  }
  for (; x + 16 <= width; x += 16) {
    // Four vectors of four (R, G, B, spare) pixels into one vector per channel, by three rounds of byte
    // interleaving.
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 4 * x));
    const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 4 * x + 16));
    const __m128i q2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 4 * x + 32));
    const __m128i q3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 4 * x + 48));
    const __m128i t0 = _mm_unpacklo_epi8(q0, q1), t1 = _mm_unpackhi_epi8(q0, q1);
    const __m128i t2 = _mm_unpacklo_epi8(q2, q3), t3 = _mm_unpackhi_epi8(q2, q3);
    const __m128i u0 = _mm_unpacklo_epi8(t0, t1), u1 = _mm_unpackhi_epi8(t0, t1);
    const __m128i u2 = _mm_unpacklo_epi8(t2, t3), u3 = _mm_unpackhi_epi8(t2, t3);
    const __m128i v0 = _mm_unpacklo_epi8(u0, u1), v1 = _mm_unpackhi_epi8(u0, u1);  // R0..7 G0..7, B0..7 spare
    const __m128i v2 = _mm_unpacklo_epi8(u2, u3), v3 = _mm_unpackhi_epi8(u2, u3);  // the same for 8..15
    const __m128i ch[3] = {_mm_unpacklo_epi64(v0, v2), _mm_unpackhi_epi64(v0, v2), _mm_unpacklo_epi64(v1, v3)};
    for (size_t j = 0; j < 3; ++j) {
      const __m128i lo = _mm_unpacklo_epi8(ch[j], zero), hi = _mm_unpackhi_epi8(ch[j], zero);
      const __m128i g[4] = {_mm_unpacklo_epi16(lo, zero), _mm_unpackhi_epi16(lo, zero), _mm_unpacklo_epi16(hi, zero),
                            _mm_unpackhi_epi16(hi, zero)};
      for (size_t n = 0; n < 4; ++n) {
        _mm_storeu_ps(o[j] + x + 4 * n, _mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(g[n]), vs[j]), vb[j]));
      }
    }
  }
#elif defined(EG_AARCH64)
  float32x4_t vs[3], vb[3];
  for (size_t j = 0; j < 3; ++j) {
    vs[j] = vdupq_n_f32(dst.scale[to[j]]);
    vb[j] = vdupq_n_f32(dst.bias[to[j]]);
  }
  for (; x + 16 <= width; x += 16) {
    const uint8x16x4_t q = vld4q_u8(row + 4 * x);  // val[c]: channel c of the sixteen pixels
    for (size_t j = 0; j < 3; ++j) {
      const uint16x8_t lo = vmovl_u8(vget_low_u8(q.val[j])), hi = vmovl_u8(vget_high_u8(q.val[j]));
      const uint32x4_t g[4] = {vmovl_u16(vget_low_u16(lo)), vmovl_u16(vget_high_u16(lo)), vmovl_u16(vget_low_u16(hi)),
                               vmovl_u16(vget_high_u16(hi))};
      for (size_t n = 0; n < 4; ++n)
        vst1q_f32(o[j] + x + 4 * n, vaddq_f32(vmulq_f32(vcvtq_f32_u32(g[n]), vs[j]), vb[j]));
    }
  }
#endif
  for (; x < width; ++x) {
    for (size_t j = 0; j < 3; ++j) o[j][x] = levels.at[to[j]][row[4 * x + j]];
  }
  return true;
}

// Whether every output of an axis reads exactly one source pixel: one weight of exactly 1 and the rest 0
// (nearest, or any kernel at the source's own size). Then each output value is the source value (see
// eg_resample_into), and *pick receives the source index of each output.
bool single_pixel(const eg_taps& a, size_t n, int32_t* pick) {
  for (size_t i = 0; i < n; ++i) {
    const int16_t* w = a.weights + i * a.taps;
    int32_t at = -1;
    for (size_t t = 0; t < size_t(a.count[i]); ++t) {
      if (w[t] == (1 << kTapBits) && at < 0) {
        at = a.first[i] + int32_t(t);
      } else if (w[t] != 0) {
        return false;
      }
    }
    if (at < 0) return false;
    pick[i] = at;
  }
  return true;
}

// Both axes read single pixels: out = levels of the source value. The passes give the value itself back:
// (s * 2^14 + 2^7) >> 8 = 64 s, and (64 s * 2^14 + 2^19) >> 20 = s.
void picked(const uint8_t* src, size_t src_width, size_t sc, const int32_t* hpick, const int32_t* vpick,
            const eg_tensor_slot& dst, const Levels& levels) {
  const size_t width = dst.width, height = dst.height, c = dst.channels;
  const size_t plane = width * height;
  for (size_t y = 0; y < height; ++y) {
    const uint8_t* EG_RESTRICT line = src + size_t(vpick[y]) * src_width * sc;
    for (size_t k = 0; k < c; ++k) {
      const uint8_t* EG_RESTRICT from = line + (sc == 1 ? 0 : dst.source[k]);
      const float* EG_RESTRICT at = levels.at[k];
      const size_t step = dst.nchw ? 1 : c;
      float* EG_RESTRICT out = dst.out + (dst.nchw ? k * plane + y * width : y * width * c + k);
      for (size_t x = 0; x < width; ++x) out[x * step] = at[from[size_t(hpick[x]) * sc]];
    }
  }
}

}  // namespace

size_t eg_resample_scratch(const eg_taps& h, size_t width, size_t src_channels) {
  if (width == 0) return 0;
  size_t x0 = 0, x1 = 0;
  column_span(h, width, &x0, &x1);
  return layout_for((x1 - x0) * src_channels, most_taps(h, width), width, src_channels).total;
}

eg_status eg_resample_into(const uint8_t* src, size_t src_width, size_t src_height, size_t src_channels,
                           const eg_taps& h, const eg_taps& v, int16_t* scratch, size_t scratch_len,
                           const eg_tensor_slot& dst) {
  const size_t sc = src_channels;
  const size_t c = dst.channels;
  if (!(sc == 1 || sc == 3) || !(c == 1 || c == 3) || (sc == 3 && c == 1)) return eg_status::bad_geometry;
  if (dst.width == 0 || dst.height == 0 || src_width == 0 || src_height == 0) return eg_status::bad_geometry;
  if (!taps_ok(h, dst.width, src_width) || !taps_ok(v, dst.height, src_height)) return eg_status::bad_index;
  if (sc == 3) {
    for (size_t k = 0; k < c; ++k) {
      if (dst.source[k] >= sc) return eg_status::bad_index;
    }
  }
  const size_t width = dst.width;
  const size_t height = dst.height;
  size_t x0 = 0, x1 = 0;
  column_span(h, width, &x0, &x1);
  const size_t span = (x1 - x0) * sc;
  const Layout l = layout_for(span, most_taps(h, width), width, sc);
  if (scratch_len < l.total) return eg_status::bad_geometry;
  const Levels levels(dst);
  {
    std::vector<int32_t> pick(width + height);
    if (single_pixel(h, width, pick.data()) && single_pixel(v, height, pick.data() + width)) {
      picked(src, src_width, sc, pick.data(), pick.data() + width, dst, levels);
      return eg_status::ok;
    }
  }
  int16_t* base = scratch + ((16 - reinterpret_cast<uintptr_t>(scratch) % 16) % 16) / sizeof(int16_t);
  int16_t* EG_RESTRICT column = base;
  int16_t* EG_RESTRICT weights = base + l.column;
  uint8_t* EG_RESTRICT row = reinterpret_cast<uint8_t*>(base + l.column + l.weights);
  std::memset(column + span, 0, (l.column - span) * sizeof(int16_t));
  fill_weights(h, width, l.pairs, sc, weights);
  const size_t src_row = src_width * sc;
  const size_t plane = width * height;
  const vertical_fn vertical = vertical_pass();

  for (size_t y = 0; y < height; ++y) {
    vertical(src + size_t(v.first[y]) * src_row + x0 * sc, src_row, v.weights + y * v.taps, size_t(v.count[y]), span,
             column);
    if (sc == 3) {
      horizontal_rgb(column, h.first, x0, weights, l.pairs, width, row);
    } else {
      horizontal_grey(column, h.first, x0, weights, l.pairs, width, row);
    }
    if (sc == 3 && c == 3 && dst.nchw && rgb_to_planes(row, width, y, dst, levels)) continue;
    // Each output channel reads one source channel (all read channel 0 for a grey source).
    const size_t step = sc == 3 ? 4 : 1;
    for (size_t k = 0; k < c; ++k) {
      const uint8_t* EG_RESTRICT from = row + (sc == 1 ? 0 : dst.source[k]);
      const float* EG_RESTRICT at = levels.at[k];
      const size_t stride = dst.nchw ? 1 : c;
      float* EG_RESTRICT out = dst.out + (dst.nchw ? k * plane + y * width : y * width * c + k);
      for (size_t x = 0; x < width; ++x) out[x * stride] = at[from[x * step]];
    }
  }
  return eg_status::ok;
}

}  // namespace engram
