// The passes of the resampler. Arithmetic mirrors src/images/resample.ts step for step (float sums in tap
// order, every product and sum rounded to float, the same rounding to 8 bits), and -ffp-contract=off keeps the compiler
// from fusing multiply-adds, so the TypeScript reference and this loop agree bit for bit.
#include "resample.h"

#include <cstddef>

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

// Horizontal taps for one RGB row: pixel x of `out` from column pixels first[x] .. first[x] + count[x] - 1.
// With 4-lane vectors a pixel is one (R, G, B, next R) lane group: one multiply and one add per tap instead
// of three of each. Lanes compute the scalar loop's float operations in the same order, so the results are
// identical; the fourth lane is thrown away (the next pixel overwrites it), which is why the scratch holds
// kScratchPad spare floats past the row. Every pixel runs the row's largest tap count: the extra taps have
// weight 0 (the tables are zero-padded), add nothing, and spare the CPU a mispredicted loop exit per pixel;
// pixels whose extra taps would read past the column span run their own count.
constexpr size_t kScratchPad = 4;

void horizontal_rgb(const float* column, const eg_taps& h, size_t x0, size_t x1, size_t most, size_t width, float* out) {
  for (size_t x = 0; x < width; ++x) {
    const size_t first = size_t(h.first[x]);
    const size_t m = first + most <= x1 ? most : size_t(h.count[x]);
    const float* hw = h.weights + x * h.taps;
    const float* p = column + (first - x0) * 3;
#if defined(EG_X86_64)
    __m128 a = _mm_mul_ps(_mm_loadu_ps(p), _mm_set1_ps(hw[0]));
    for (size_t t = 1; t < m; ++t) a = _mm_add_ps(a, _mm_mul_ps(_mm_loadu_ps(p + 3 * t), _mm_set1_ps(hw[t])));
    _mm_storeu_ps(out + 3 * x, a);
#elif defined(EG_AARCH64)
    float32x4_t a = vmulq_f32(vld1q_f32(p), vdupq_n_f32(hw[0]));
    for (size_t t = 1; t < m; ++t) a = vaddq_f32(a, vmulq_f32(vld1q_f32(p + 3 * t), vdupq_n_f32(hw[t])));
    vst1q_f32(out + 3 * x, a);
#else
    float a0 = p[0] * hw[0], a1 = p[1] * hw[0], a2 = p[2] * hw[0];
    for (size_t t = 1; t < m; ++t) {
      const float wt = hw[t];
      a0 += p[3 * t] * wt;
      a1 += p[3 * t + 1] * wt;
      a2 += p[3 * t + 2] * wt;
    }
    out[3 * x] = a0;
    out[3 * x + 1] = a1;
    out[3 * x + 2] = a2;
#endif
  }
}

}  // namespace

size_t eg_resample_scratch(const eg_taps& h, size_t width, size_t src_channels) {
  if (width == 0) return 0;
  size_t x0 = 0, x1 = 0;
  column_span(h, width, &x0, &x1);
  return (x1 - x0 + width) * src_channels + kScratchPad;
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
  size_t most = 1;  // the largest horizontal tap count, once per image rather than once per row
  for (size_t x = 0; x < width; ++x) most = size_t(h.count[x]) > most ? size_t(h.count[x]) : most;
  const size_t span = (x1 - x0) * sc;
  if (scratch_len < span + width * sc + kScratchPad) return eg_status::bad_geometry;
  float* EG_RESTRICT column = scratch;          // one output row after the vertical taps, source columns x0..x1
  float* EG_RESTRICT row = scratch + span;      // the same row after the horizontal taps
  const size_t src_row = src_width * sc;
  const size_t plane = width * height;

  for (size_t y = 0; y < height; ++y) {
    // Vertical taps over whole source rows: contiguous, so this loop vectorises; each value is still
    // summed in tap order.
    const size_t n = size_t(v.count[y]);
    const float* vw = v.weights + y * v.taps;
    const uint8_t* EG_RESTRICT line = src + size_t(v.first[y]) * src_row + x0 * sc;
    const float w0 = vw[0];
    for (size_t i = 0; i < span; ++i) column[i] = float(line[i]) * w0;
    for (size_t t = 1; t < n; ++t) {
      line += src_row;
      const float wt = vw[t];
      for (size_t i = 0; i < span; ++i) column[i] += float(line[i]) * wt;
    }
    // Horizontal taps.
    if (sc == 3) {
      horizontal_rgb(column, h, x0, x1, most, width, row);
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
    const size_t row_len = width * sc;
    for (size_t i = 0; i < row_len; ++i) row[i] = to8(row[i]);
    // Each output channel reads one source channel (all read channel 0 for a grey source).
    for (size_t k = 0; k < c; ++k) {
      const float* EG_RESTRICT from = row + (sc == 1 ? 0 : dst.source[k]);
      const float sk = dst.scale[k];
      const float bk = dst.bias[k];
      if (dst.nchw) {
        float* EG_RESTRICT out = dst.out + k * plane + y * width;
        for (size_t x = 0; x < width; ++x) out[x] = from[x * sc] * sk + bk;
      } else {
        float* EG_RESTRICT out = dst.out + y * width * c + k;
        for (size_t x = 0; x < width; ++x) out[x * c] = from[x * sc] * sk + bk;
      }
    }
  }
  return eg_status::ok;
}

}  // namespace engram
