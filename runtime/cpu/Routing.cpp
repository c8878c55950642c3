//===- Routing.cpp - CPU top-k, gather and MoE routing -------------------===//

#include "runtime/Error.h"
#include "runtime/cpu/CpuKernels.h"
#include "runtime/Parallel.h"
#include "runtime/cpu/Reference.h"
#include "runtime/cpu/RowIO.h"

#include <cstring>
#include <vector>

namespace llmf::cpu {
namespace {

void topkKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &values = c.outputs[0], &indices = c.outputs[1];
  int64_t d = x.rowLength(), k = c.step.attrs.k;
  auto *idx = static_cast<int32_t *>(indices.data());
  parallelFor(x.numRows(), d, [&](int64_t begin, int64_t end) {
    std::vector<float> row(d), picked(k);
    for (int64_t r = begin; r < end; ++r) {
      loadRow(x, r, row.data());
      topkRow(row.data(), d, k, idx + r * k);
      for (int64_t j = 0; j < k; ++j)
        picked[j] = row[idx[r * k + j]];
      storeRow(values, r, picked.data());
    }
  });
}

void gatherKernel(const KernelCall &c) {
  const Tensor &x = c.inputs[0], &indices = c.inputs[1], &y = c.outputs[0];
  int64_t d = x.rowLength(), j = indices.rowLength();
  size_t es = dtypeSize(x.dtype());
  parallelFor(indices.numRows(), j, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t i = 0; i < j; ++i) {
        int64_t idx = loadInt(indices, r * j + i);
        if (idx < 0 || idx >= d)
          fail("gather: index ", idx, " at row ", r, " is out of range [0, ", d, ")");
        std::memcpy(y.elementPtr(r * j + i), x.elementPtr(r * d + idx), es);
      }
  });
}

RoutingParams routingParams(const OpAttrs &a) {
  return RoutingParams{a.nGroup, a.topkGroup, a.topk, a.renormalize,
                       a.routedScalingFactor};
}

/// Routes every token: fill(r, s, b) writes row r's scores and biased
/// values, then the row goes through grouped top-k.
template <typename Fill>
void routeRows(const KernelCall &c, int64_t rows, int64_t e, const Fill &fill) {
  int64_t k = c.step.attrs.topk;
  RoutingParams p = routingParams(c.step.attrs);
  auto *w = static_cast<float *>(c.outputs[0].data());
  auto *ids = static_cast<int32_t *>(c.outputs[1].data());
  parallelFor(rows, e, [&](int64_t begin, int64_t end) {
    std::vector<float> s(e), b(e);
    for (int64_t r = begin; r < end; ++r) {
      fill(r, s, b);
      groupedTopKRow(s.data(), b.data(), e, p, w + r * k, ids + r * k);
    }
  });
}

void groupedTopKKernel(const KernelCall &c) {
  const Tensor &scores = c.inputs[0], &biased = c.inputs[1];
  routeRows(c, scores.numRows(), scores.rowLength(),
            [&](int64_t r, std::vector<float> &s, std::vector<float> &b) {
              loadRow(scores, r, s.data());
              loadRow(biased, r, b.data());
            });
}

/// cast to f32 -> sigmoid -> + bias -> grouped top-k, as the unfused ops.
void fusedMoERouterKernel(const KernelCall &c) {
  const Tensor &logits = c.inputs[0];
  std::vector<float> bias = loadAll(c.inputs[1]);
  routeRows(c, logits.numRows(), logits.rowLength(),
            [&](int64_t r, std::vector<float> &s, std::vector<float> &b) {
              loadRow(logits, r, s.data());
              for (size_t i = 0; i < s.size(); ++i) {
                s[i] = sigmoid(s[i]);
                b[i] = s[i] + bias[i];
              }
            });
}

} // namespace

void registerRoutingKernels(KernelRegistry &r) {
  r.add("topk", Device::CPU, topkKernel);
  r.add("gather", Device::CPU, gatherKernel);
  r.add("grouped_topk", Device::CPU, groupedTopKKernel);
  r.add("fused_moe_router", Device::CPU, fusedMoERouterKernel);
}

} // namespace llmf::cpu
