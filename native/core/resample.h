// Separable resampling of 8-bit pixels straight into a normalised float tensor (a model's input).
// The tap tables are computed by the caller (src/images/resample.ts), so the TypeScript reference and
// this loop read the very same weights and give bit-identical results.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.h"

namespace engram {

/**
 * One axis: output i reads count[i] source pixels from first[i], with weights[i * taps + t]. Weights past
 * count[i] must be 0: a row may be run over more taps than a pixel's count (they then add nothing).
 */
struct eg_taps {
  const int32_t* first;
  const int32_t* count;
  const float* weights;
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
 * row) and horizontal taps `h` (one per output column), one output row at a time: vertical taps over the
 * source columns the horizontal taps read, then horizontal taps, both in float with every product and sum
 * rounded (no fused multiply-add), then clamped to 0..255 and rounded to 8 bits (+0.5, truncate), then value * scale + bias in
 * float. A 1-channel source feeds every output channel. `scratch` holds eg_resample_scratch floats.
 * Returns bad_geometry for channel counts it cannot map or a short scratch, bad_index for a tap outside the
 * source, a count of 0 or above taps, or a source channel out of range.
 */
eg_status eg_resample_into(const uint8_t* src, size_t src_width, size_t src_height, size_t src_channels,
                           const eg_taps& h, const eg_taps& v, float* scratch, size_t scratch_len,
                           const eg_tensor_slot& dst);

/** Floats of scratch that eg_resample_into needs for these horizontal taps (taps already checked). */
size_t eg_resample_scratch(const eg_taps& h, size_t width, size_t src_channels);

}  // namespace engram
