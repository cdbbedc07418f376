// The passes of the resampler. Arithmetic mirrors src/images/resample.ts step for step (float sums in tap
// order, every product and sum rounded to float, the same rounding to 8 bits), and -ffp-contract=off keeps the compiler
// from fusing multiply-adds, so the TypeScript reference and this loop agree bit for bit.
#include "resample.h"

#include <cstddef>
#include <vector>

#include "eg_port.h"

#if defined(EG_X86_64)
#include <emmintrin.h>  // SSE2: part of every x86-64 CPU
#elif defined(EG_AARCH64)
#include <arm_neon.h>  // part of every AArch64 CPU
#endif

namespace engram {

namespace {

bool taps_inside(const eg_taps& a, size_t n, size_t size) {
  for (size_t i = 0; i < n; ++i) {
    if (a.first[i] < 0 || a.count[i] < 1 || size_t(a.count[i]) > a.taps || size_t(a.first[i]) + size_t(a.count[i]) > size) {
      return false;
    }
  }
  return true;
}

// The nearest 8-bit value: add a half in float, truncate, clamp to 0..255 in integers. The same value as
// clamping first (src/images/resample.ts does), and written so the row loop vectorises: no branches and no
// float min/max (whose signed-zero rules keep compilers from using minps/maxps).
inline float to8(float a) {
  int v = int(a + 0.5f);
  v = v < 0 ? 0 : v;
  v = v > 255 ? 255 : v;
  return float(v);
}

#if defined(__GNUC__) || defined(__clang__)
#define EG_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EG_ALWAYS_INLINE inline
#endif

// Vertical taps for one output row over `span` values of n source rows `row_bytes` apart: column[i] =
// line_0[i] * w[0] + line_1[i] * w[1] + ..., summed in tap order. Up to four taps are summed in one loop
// (one load and one store of the column instead of one per tap), more in a loop per tap; both add the
// same products in the same order. Contiguous, so the compiler vectorises it for the target it is built for.
EG_ALWAYS_INLINE void vertical_taps(const uint8_t* EG_RESTRICT line, size_t row_bytes, const float* vw, size_t n,
                                    size_t span, float* EG_RESTRICT column) {
  const uint8_t* EG_RESTRICT l1 = line + row_bytes;
  const uint8_t* EG_RESTRICT l2 = l1 + row_bytes;
  const uint8_t* EG_RESTRICT l3 = l2 + row_bytes;
  const float w0 = vw[0];
  switch (n) {
    case 1:
      for (size_t i = 0; i < span; ++i) column[i] = float(line[i]) * w0;
      return;
    case 2: {
      const float w1 = vw[1];
      for (size_t i = 0; i < span; ++i) column[i] = float(line[i]) * w0 + float(l1[i]) * w1;
      return;
    }
    case 3: {
      const float w1 = vw[1], w2 = vw[2];
      for (size_t i = 0; i < span; ++i) column[i] = float(line[i]) * w0 + float(l1[i]) * w1 + float(l2[i]) * w2;
      return;
    }
    case 4: {
      const float w1 = vw[1], w2 = vw[2], w3 = vw[3];
      for (size_t i = 0; i < span; ++i) {
        column[i] = float(line[i]) * w0 + float(l1[i]) * w1 + float(l2[i]) * w2 + float(l3[i]) * w3;
      }
      return;
    }
    default:
      for (size_t i = 0; i < span; ++i) column[i] = float(line[i]) * w0;
      for (size_t t = 1; t < n; ++t) {
        line += row_bytes;
        const float wt = vw[t];
        for (size_t i = 0; i < span; ++i) column[i] += float(line[i]) * wt;
      }
  }
}

void vertical_taps_base(const uint8_t* line, size_t row_bytes, const float* vw, size_t n, size_t span, float* column) {
  vertical_taps(line, row_bytes, vw, n, span, column);
}

#if defined(EG_HAVE_AVX2_PATH)
// The same loops with 8-lane vectors: the same float operations per value (AVX2 without FMA, and the build
// forbids contraction), so the results are identical to the SSE2 build.
EG_TARGET_AVX2 void vertical_taps_avx2(const uint8_t* line, size_t row_bytes, const float* vw, size_t n, size_t span,
                                       float* column) {
  vertical_taps(line, row_bytes, vw, n, span, column);
}
#endif

using vertical_fn = void (*)(const uint8_t*, size_t, const float*, size_t, size_t, float*);

// Chosen once per process, like the memory kernels.
vertical_fn vertical_pass() {
#if defined(EG_HAVE_AVX2_PATH)
  static const vertical_fn chosen = eg_cpu_has_avx2() ? vertical_taps_avx2 : vertical_taps_base;
  return chosen;
#else
  return vertical_taps_base;
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

// Horizontal taps for one RGB row: pixel x of `out` (4 floats: R, G, B and a spare lane) from column pixels
// first[x] .. first[x] + count[x] - 1. With 4-lane vectors a pixel is one (R, G, B, next R) lane group: one
// multiply and one add per tap instead of three of each. Lanes compute the scalar loop's float operations in
// the same order, so the results are identical; the fourth lane is never read. A whole 16-byte group per
// pixel keeps the stores from overlapping and crossing cache lines. Every pixel runs the row's largest tap
// count: the extra taps have weight 0 (the tables are zero-padded), add nothing, and spare the CPU a
// mispredicted loop exit per pixel; pixels whose extra taps would read past the column span run their own
// count. The column is read up to one float past its span, which kScratchPad (or the row after it) covers.
constexpr size_t kScratchPad = 4;

// Where the row after the horizontal taps starts in the scratch (after the column, on a 16-byte boundary
// relative to the scratch) and how many floats it takes: 4 per RGB pixel, 1 per grey pixel.
constexpr size_t row_at(size_t span) { return (span + 3) & ~size_t(3); }
constexpr size_t row_floats(size_t width, size_t src_channels) { return src_channels == 3 ? 4 * width : width; }

// RGB rows of up to kFixedTaps taps a pixel run with the tap count fixed at compile time, reading their
// weights from a table that repeats each weight in four lanes (built once per image): a tap then costs one
// aligned load instead of a load and a shuffle.
constexpr size_t kFixedTaps = 8;
constexpr size_t wide_floats(size_t width, size_t most, size_t src_channels) {
  return src_channels == 3 && most <= kFixedTaps ? width * most * 4 + 3 : 0;  // + 3: room to align to 16 bytes
}

size_t most_taps(const eg_taps& h, size_t width) {
  size_t most = 1;
  for (size_t x = 0; x < width; ++x) most = size_t(h.count[x]) > most ? size_t(h.count[x]) : most;
  return most;
}

// One RGB pixel from m taps; T is the tap count when it is known at compile time (then the loop unrolls), 0
// when it is not.
template <size_t T>
inline void rgb_pixel(const float* EG_RESTRICT p, const float* EG_RESTRICT hw, size_t m, float* EG_RESTRICT out) {
  const size_t n = T ? T : m;
#if defined(EG_X86_64)
  __m128 a = _mm_mul_ps(_mm_loadu_ps(p), _mm_set1_ps(hw[0]));
  for (size_t t = 1; t < n; ++t) a = _mm_add_ps(a, _mm_mul_ps(_mm_loadu_ps(p + 3 * t), _mm_set1_ps(hw[t])));
  _mm_storeu_ps(out, a);
#elif defined(EG_AARCH64)
  float32x4_t a = vmulq_f32(vld1q_f32(p), vdupq_n_f32(hw[0]));
  for (size_t t = 1; t < n; ++t) a = vaddq_f32(a, vmulq_f32(vld1q_f32(p + 3 * t), vdupq_n_f32(hw[t])));
  vst1q_f32(out, a);
#else
  float a0 = p[0] * hw[0], a1 = p[1] * hw[0], a2 = p[2] * hw[0];
  for (size_t t = 1; t < n; ++t) {
    const float wt = hw[t];
    a0 += p[3 * t] * wt;
    a1 += p[3 * t + 1] * wt;
    a2 += p[3 * t + 2] * wt;
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
#endif
}

// One RGB pixel from T taps whose weights are repeated in four lanes at wq (16-byte aligned).
template <size_t T>
inline void rgb_pixel_wide(const float* EG_RESTRICT p, const float* EG_RESTRICT wq, float* EG_RESTRICT out) {
#if defined(EG_X86_64)
  __m128 a = _mm_mul_ps(_mm_loadu_ps(p), _mm_load_ps(wq));
  for (size_t t = 1; t < T; ++t) a = _mm_add_ps(a, _mm_mul_ps(_mm_loadu_ps(p + 3 * t), _mm_load_ps(wq + 4 * t)));
  _mm_storeu_ps(out, a);
#elif defined(EG_AARCH64)
  float32x4_t a = vmulq_f32(vld1q_f32(p), vld1q_f32(wq));
  for (size_t t = 1; t < T; ++t) a = vaddq_f32(a, vmulq_f32(vld1q_f32(p + 3 * t), vld1q_f32(wq + 4 * t)));
  vst1q_f32(out, a);
#else
  float a0 = p[0] * wq[0], a1 = p[1] * wq[0], a2 = p[2] * wq[0];
  for (size_t t = 1; t < T; ++t) {
    const float wt = wq[4 * t];
    a0 += p[3 * t] * wt;
    a1 += p[3 * t + 1] * wt;
    a2 += p[3 * t + 2] * wt;
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
#endif
}

// The row's pixels with T taps each, weights from the four-lane table `wide` (T * 4 floats a pixel). Pointers
// are copied into restrict locals so the compiler keeps them in registers instead of reloading them after
// every store.
template <size_t T>
void horizontal_rgb_n(const float* EG_RESTRICT column, const eg_taps& h, const float* EG_RESTRICT wide, size_t x0,
                      size_t x1, size_t width, float* EG_RESTRICT out) {
  const int32_t* EG_RESTRICT first = h.first;
  const int32_t* EG_RESTRICT count = h.count;
  const float* EG_RESTRICT weights = h.weights;
  const size_t stride = h.taps;
  for (size_t x = 0; x < width; ++x) {
    const size_t f = size_t(first[x]);
    const float* p = column + (f - x0) * 3;
    if (f + T <= x1) {
      rgb_pixel_wide<T>(p, wide + x * T * 4, out + 4 * x);
    } else {
      rgb_pixel<0>(p, weights + x * stride, size_t(count[x]), out + 4 * x);
    }
  }
}

// More than kFixedTaps taps a pixel: each pixel runs `most` taps (its own count at the right edge).
void horizontal_rgb_any(const float* EG_RESTRICT column, const eg_taps& h, size_t x0, size_t x1, size_t most,
                        size_t width, float* EG_RESTRICT out) {
  for (size_t x = 0; x < width; ++x) {
    const size_t f = size_t(h.first[x]);
    const size_t m = f + most <= x1 ? most : size_t(h.count[x]);
    rgb_pixel<0>(column + (f - x0) * 3, h.weights + x * h.taps, m, out + 4 * x);
  }
}

void horizontal_rgb(const float* column, const eg_taps& h, const float* wide, size_t x0, size_t x1, size_t most,
                    size_t width, float* out) {
  switch (most) {
    case 1: return horizontal_rgb_n<1>(column, h, wide, x0, x1, width, out);
    case 2: return horizontal_rgb_n<2>(column, h, wide, x0, x1, width, out);
    case 3: return horizontal_rgb_n<3>(column, h, wide, x0, x1, width, out);
    case 4: return horizontal_rgb_n<4>(column, h, wide, x0, x1, width, out);
    case 5: return horizontal_rgb_n<5>(column, h, wide, x0, x1, width, out);
    case 6: return horizontal_rgb_n<6>(column, h, wide, x0, x1, width, out);
    case 7: return horizontal_rgb_n<7>(column, h, wide, x0, x1, width, out);
    case 8: return horizontal_rgb_n<8>(column, h, wide, x0, x1, width, out);
    default: return horizontal_rgb_any(column, h, x0, x1, most, width, out);
  }
}

// The four-lane weight table of horizontal_rgb_n: `most` weights a pixel (zero-padded past its count).
void widen_weights(const eg_taps& h, size_t width, size_t most, float* wide) {
  for (size_t x = 0; x < width; ++x) {
    for (size_t t = 0; t < most; ++t) {
      const float w = h.weights[x * h.taps + t];
      for (size_t lane = 0; lane < 4; ++lane) wide[(x * most + t) * 4 + lane] = w;
    }
  }
}

// The 8-bit rounding of to8 on four lanes: the same float add, truncation and integer clamp.
#if defined(EG_X86_64)
inline __m128 to8_x4(__m128 a) {
  __m128i v = _mm_cvttps_epi32(_mm_add_ps(a, _mm_set1_ps(0.5f)));
  v = _mm_and_si128(v, _mm_cmpgt_epi32(v, _mm_setzero_si128()));
  const __m128i top = _mm_set1_epi32(255);
  const __m128i over = _mm_cmpgt_epi32(v, top);
  v = _mm_or_si128(_mm_and_si128(over, top), _mm_andnot_si128(over, v));
  return _mm_cvtepi32_ps(v);
}
#elif defined(EG_AARCH64)
inline float32x4_t to8_x4(float32x4_t a) {
  int32x4_t v = vcvtq_s32_f32(vaddq_f32(a, vdupq_n_f32(0.5f)));
  v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(0)), vdupq_n_s32(255));
  return vcvtq_f32_s32(v);
}
#endif

// Row y of an RGB image held as 4 floats per pixel into three planes: 8-bit rounding, then value * scale +
// bias, plane k from source channel source[k]. Four pixels at a time are transposed into one vector per
// channel, so every plane gets whole-vector stores instead of a strided gather. Seen from the source side
// (source channel j goes to plane to[j]) no vector is picked by a run-time index. Returns false, writing
// nothing, when source[] is not a permutation of the three channels (the caller's general loop then runs).
bool rgb_quads_to_planes(const float* EG_RESTRICT row, size_t width, size_t y, const eg_tensor_slot& dst) {
  size_t to[3] = {3, 3, 3};
  for (size_t k = 0; k < 3; ++k) to[dst.source[k]] = k;
  if (to[0] == 3 || to[1] == 3 || to[2] == 3) return false;
  const size_t plane = dst.width * dst.height;
  float* EG_RESTRICT o0 = dst.out + to[0] * plane + y * width;
  float* EG_RESTRICT o1 = dst.out + to[1] * plane + y * width;
  float* EG_RESTRICT o2 = dst.out + to[2] * plane + y * width;
  const float s0 = dst.scale[to[0]], s1 = dst.scale[to[1]], s2 = dst.scale[to[2]];
  const float b0 = dst.bias[to[0]], b1 = dst.bias[to[1]], b2 = dst.bias[to[2]];
  size_t x = 0;
#if defined(EG_X86_64)
  const __m128 vs0 = _mm_set1_ps(s0), vs1 = _mm_set1_ps(s1), vs2 = _mm_set1_ps(s2);
  const __m128 vb0 = _mm_set1_ps(b0), vb1 = _mm_set1_ps(b1), vb2 = _mm_set1_ps(b2);
  for (; x + 4 <= width; x += 4) {
    __m128 q0 = _mm_loadu_ps(row + 4 * x), q1 = _mm_loadu_ps(row + 4 * x + 4);
    __m128 q2 = _mm_loadu_ps(row + 4 * x + 8), q3 = _mm_loadu_ps(row + 4 * x + 12);
    _MM_TRANSPOSE4_PS(q0, q1, q2, q3);  // q0: R of the four pixels, q1: G, q2: B
    _mm_storeu_ps(o0 + x, _mm_add_ps(_mm_mul_ps(to8_x4(q0), vs0), vb0));
    _mm_storeu_ps(o1 + x, _mm_add_ps(_mm_mul_ps(to8_x4(q1), vs1), vb1));
    _mm_storeu_ps(o2 + x, _mm_add_ps(_mm_mul_ps(to8_x4(q2), vs2), vb2));
  }
#elif defined(EG_AARCH64)
  const float32x4_t vs0 = vdupq_n_f32(s0), vs1 = vdupq_n_f32(s1), vs2 = vdupq_n_f32(s2);
  const float32x4_t vb0 = vdupq_n_f32(b0), vb1 = vdupq_n_f32(b1), vb2 = vdupq_n_f32(b2);
  for (; x + 4 <= width; x += 4) {
    const float32x4x4_t q = vld4q_f32(row + 4 * x);  // val[c]: channel c of the four pixels
    vst1q_f32(o0 + x, vaddq_f32(vmulq_f32(to8_x4(q.val[0]), vs0), vb0));
    vst1q_f32(o1 + x, vaddq_f32(vmulq_f32(to8_x4(q.val[1]), vs1), vb1));
    vst1q_f32(o2 + x, vaddq_f32(vmulq_f32(to8_x4(q.val[2]), vs2), vb2));
  }
#endif
  for (; x < width; ++x) {
    o0[x] = to8(row[4 * x]) * s0 + b0;
    o1[x] = to8(row[4 * x + 1]) * s1 + b1;
    o2[x] = to8(row[4 * x + 2]) * s2 + b2;
  }
  return true;
}

// Whether every output of an axis reads exactly one source pixel: one weight of exactly 1 and the rest 0
// (nearest, or any kernel at the source's own size). Then each output value is a source value, exact in
// float at every step of the passes, and *pick receives the source index of each output.
bool single_pixel(const eg_taps& a, size_t n, int32_t* pick) {
  for (size_t i = 0; i < n; ++i) {
    const float* w = a.weights + i * a.taps;
    int32_t at = -1;
    for (size_t t = 0; t < size_t(a.count[i]); ++t) {
      if (w[t] == 1.0f && at < 0) {
        at = a.first[i] + int32_t(t);
      } else if (w[t] != 0.0f) {
        return false;
      }
    }
    if (at < 0) return false;
    pick[i] = at;
  }
  return true;
}

// Both axes read single pixels: out = source value * scale + bias, the passes' result without their work (the
// value each pass would compute is the 8-bit source value itself, and the 8-bit rounding keeps it).
void picked(const uint8_t* src, size_t src_width, size_t sc, const int32_t* hpick, const int32_t* vpick,
            const eg_tensor_slot& dst) {
  const size_t width = dst.width, height = dst.height, c = dst.channels;
  const size_t plane = width * height;
  for (size_t y = 0; y < height; ++y) {
    const uint8_t* EG_RESTRICT line = src + size_t(vpick[y]) * src_width * sc;
    for (size_t k = 0; k < c; ++k) {
      const uint8_t* EG_RESTRICT from = line + (sc == 1 ? 0 : dst.source[k]);
      const float sk = dst.scale[k];
      const float bk = dst.bias[k];
      const size_t step = dst.nchw ? 1 : c;
      float* EG_RESTRICT out = dst.nchw ? dst.out + k * plane + y * width : dst.out + y * width * c + k;
      for (size_t x = 0; x < width; ++x) out[x * step] = float(from[size_t(hpick[x]) * sc]) * sk + bk;
    }
  }
}

}  // namespace

size_t eg_resample_scratch(const eg_taps& h, size_t width, size_t src_channels) {
  if (width == 0) return 0;
  size_t x0 = 0, x1 = 0;
  column_span(h, width, &x0, &x1);
  return row_at((x1 - x0) * src_channels) + row_floats(width, src_channels) +
         wide_floats(width, most_taps(h, width), src_channels) + kScratchPad;
}

eg_status eg_resample_into(const uint8_t* src, size_t src_width, size_t src_height, size_t src_channels,
                           const eg_taps& h, const eg_taps& v, float* scratch, size_t scratch_len,
                           const eg_tensor_slot& dst) {
  const size_t sc = src_channels;
  const size_t c = dst.channels;
  if (!(sc == 1 || sc == 3) || !(c == 1 || c == 3) || (sc == 3 && c == 1)) return eg_status::bad_geometry;
  if (dst.width == 0 || dst.height == 0 || src_width == 0 || src_height == 0) return eg_status::bad_geometry;
  if (!taps_inside(h, dst.width, src_width) || !taps_inside(v, dst.height, src_height)) return eg_status::bad_index;
  if (sc == 3) {
    for (size_t k = 0; k < c; ++k) {
      if (dst.source[k] >= sc) return eg_status::bad_index;
    }
  }
  const size_t width = dst.width;
  const size_t height = dst.height;
  size_t x0 = 0, x1 = 0;
  column_span(h, width, &x0, &x1);
  const size_t most = most_taps(h, width);  // once per image rather than once per row
  const size_t span = (x1 - x0) * sc;
  if (scratch_len < row_at(span) + row_floats(width, sc) + wide_floats(width, most, sc) + kScratchPad) {
    return eg_status::bad_geometry;
  }
  {
    std::vector<int32_t> pick(width + height);
    if (single_pixel(h, width, pick.data()) && single_pixel(v, height, pick.data() + width)) {
      picked(src, src_width, sc, pick.data(), pick.data() + width, dst);
      return eg_status::ok;
    }
  }
  float* EG_RESTRICT column = scratch;              // one output row after the vertical taps, source columns x0..x1
  float* EG_RESTRICT row = scratch + row_at(span);  // the same row after the horizontal taps
  float* wide = nullptr;                            // the four-lane weights, on a 16-byte boundary
  if (wide_floats(width, most, sc) != 0) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(row + row_floats(width, sc));
    wide = row + row_floats(width, sc) + ((16 - at % 16) % 16) / sizeof(float);
    widen_weights(h, width, most, wide);
  }
  const size_t src_row = src_width * sc;
  const size_t plane = width * height;
  const vertical_fn vertical = vertical_pass();

  for (size_t y = 0; y < height; ++y) {
    // Vertical taps over whole source rows.
    vertical(src + size_t(v.first[y]) * src_row + x0 * sc, src_row, v.weights + y * v.taps, size_t(v.count[y]), span,
             column);
    // Horizontal taps.
    if (sc == 3) {
      horizontal_rgb(column, h, wide, x0, x1, most, width, row);
    } else {
      for (size_t x = 0; x < width; ++x) {
        const size_t m = size_t(h.count[x]);
        const float* hw = h.weights + x * h.taps;
        const float* p = column + (size_t(h.first[x]) - x0);
        float a = p[0] * hw[0];
        for (size_t t = 1; t < m; ++t) a += p[t] * hw[t];
        row[x] = a;
      }
    }
    if (sc == 3 && c == 3 && dst.nchw && rgb_quads_to_planes(row, width, y, dst)) continue;
    // Each output channel reads one source channel (all read channel 0 for a grey source).
    const size_t step = sc == 3 ? 4 : 1;
    for (size_t k = 0; k < c; ++k) {
      const float* EG_RESTRICT from = row + (sc == 1 ? 0 : dst.source[k]);
      const float sk = dst.scale[k];
      const float bk = dst.bias[k];
      if (dst.nchw) {
        float* EG_RESTRICT out = dst.out + k * plane + y * width;
        for (size_t x = 0; x < width; ++x) out[x] = to8(from[x * step]) * sk + bk;
      } else {
        float* EG_RESTRICT out = dst.out + y * width * c + k;
        for (size_t x = 0; x < width; ++x) out[x * c] = to8(from[x * step]) * sk + bk;
      }
    }
  }
  return eg_status::ok;
}

}  // namespace engram
