// Nearest-anchor search for product quantization, the hot loop of turning features into codes.
#include "pq.h"

#include <algorithm>
#include <new>
#include <vector>

#include "eg_port.h"

namespace engram {

eg_status eg_pq_encode(const float* features, const float* anchors, size_t batch, size_t dims, size_t parts,
                       size_t anchor_count, size_t probes, uint32_t* out) {
  if (parts == 0 || dims % parts != 0 || anchor_count == 0 || probes == 0 || probes > anchor_count ||
      uint64_t(parts) * anchor_count > (uint64_t(1) << 32)) {
    return eg_status::bad_geometry;
  }
  const size_t sub = dims / parts;
  std::vector<double> best_d, dist;
  std::vector<uint32_t> best_k;
  std::vector<float> columns;  // one part's anchors, dimension-major: columns[i * anchor_count + k]
  try {
    best_d.resize(probes);
    best_k.resize(probes);
    dist.resize(anchor_count);
    columns.resize(sub * anchor_count);
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  }
  for (size_t p = 0; p < parts; ++p) {
    const float* part_anchors = anchors + p * anchor_count * sub;
    for (size_t k = 0; k < anchor_count; ++k) {
      for (size_t i = 0; i < sub; ++i) columns[i * anchor_count + k] = part_anchors[k * sub + i];
    }
    for (size_t b = 0; b < batch; ++b) {
      const float* x = features + b * dims + p * sub;
      // Dimension-major so the loop over anchors vectorises, while each anchor's sum still runs in
      // dimension order (the reference's order, hence bit-identical distances).
      std::fill(dist.begin(), dist.end(), 0.0);
      for (size_t i = 0; i < sub; ++i) {
        const double xi = double(x[i]);
        const float* EG_RESTRICT col = &columns[i * anchor_count];
        double* EG_RESTRICT d = dist.data();
        for (size_t k = 0; k < anchor_count; ++k) {
          const double diff = xi - double(col[k]);
          d[k] += diff * diff;
        }
      }
      size_t filled = 0;
      for (size_t k = 0; k < anchor_count; ++k) {
        const double d = dist[k];
        // Insertion into the sorted best list; strict < keeps the earlier (lower) k on ties.
        if (filled == probes && !(d < best_d[probes - 1])) continue;
        size_t pos = filled < probes ? filled++ : probes - 1;
        while (pos > 0 && d < best_d[pos - 1]) {
          best_d[pos] = best_d[pos - 1];
          best_k[pos] = best_k[pos - 1];
          --pos;
        }
        best_d[pos] = d;
        best_k[pos] = uint32_t(k);
      }
      uint32_t* o = out + (b * parts + p) * probes;
      for (size_t j = 0; j < probes; ++j) o[j] = uint32_t(p * anchor_count + best_k[j]);
    }
  }
  return eg_status::ok;
}

}  // namespace engram
