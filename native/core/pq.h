// Product-quantization encoder: each feature vector becomes the indices of its nearest anchors per part.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.h"

namespace engram {

/**
 * For each of `batch` vectors of `dims` floats split into `parts` equal parts, writes the `probes` nearest of
 * the `anchors` (parts x anchors x dims/parts floats) of each part as neuron index part * anchors + k, nearest
 * first. Distance is squared L2 summed in double precision in dimension order; ties go to the lower k.
 * out holds batch x parts x probes entries.
 */
eg_status eg_pq_encode(const float* features, const float* anchors, size_t batch, size_t dims, size_t parts,
                       size_t anchor_count, size_t probes, uint32_t* out);

}  // namespace engram
