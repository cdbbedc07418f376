// Separable resampling of 8-bit pixels straight into a normalised float tensor (a model's input), in fixed
// point. The tap tables are computed by the caller (src/images/resample.ts), so the TypeScript reference and
// this loop read the very same integer weights; integer sums are exact in any order, so the two agree bit for
// bit whichever vector loop runs.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.h"

namespace engram {

/** Weights are fixed point with this many fraction bits: an axis's weights for one output sum to 1 << 14. */
constexpr int kTapBits = 14;
/** The most a table may weigh in absolute value for one output (sum of |w|): keeps every sum in 32 bits. */
constexpr int32_t kMaxTapMass = 32767;

/**
 * One axis: output i reads count[i] source pixels from first[i], with weights[i * taps + t]. Weights past
 * count[i] must be 0 (they are never read).
 */
struct eg_taps {
  const int32_t* first;
  const int32_t* count;
  const int16_t* weights;
  size_t taps;
};

/** Where the resampled image goes: a width x height x channels slot of a tensor, as value*scale[c]+bias[c]. */
struct eg_tensor_slot {
  size_t width;
  size_t height;
  size_t channels;     // 1 or 3
  bool nchw;           // planar (NCHW) or interleaved (NHWC)
  const float* scale;  // per output channel
  const float* bias;
  const uint8_t* source;  // output channel c reads source channel source[c] (BGR swaps); unused for 1-channel sources
  float* out;             // first value of the slot
};

/**
 * Resamples `src` (src_width x src_height x src_channels, interleaved) with vertical taps `v` (one per output
 * row) and horizontal taps `h` (one per output column), one output row at a time:
 *   column = (sum over rows of pixel * v weight + 2^7) >> 8          (arithmetic shift: value x 64)
 *   value  = clamp((sum over columns of column * h weight + 2^19) >> 20, 0, 255)
 *   out    = value * scale + bias                                     (float, no fused multiply-add)
 * A 1-channel source feeds every output channel. `scratch` holds eg_resample_scratch int16 values.
 * Returns bad_geometry for channel counts it cannot map or a short scratch, bad_index for a tap outside the
 * source, a count of 0 or above taps, a table weighing more than kMaxTapMass, or a source channel out of range.
 */
eg_status eg_resample_into(const uint8_t* src, size_t src_width, size_t src_height, size_t src_channels,
                           const eg_taps& h, const eg_taps& v, int16_t* scratch, size_t scratch_len,
                           const eg_tensor_slot& dst);

/** int16 values of scratch that eg_resample_into needs for these horizontal taps (taps already checked). */
size_t eg_resample_scratch(const eg_taps& h, size_t width, size_t src_channels);

}  // namespace engram
