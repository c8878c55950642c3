//===- RowIO.cpp ------------------------------------------------------------===//

#include "runtime/cpu/RowIO.h"

#include <cstring>

namespace llmf::cpu {

void loadRow(const Tensor &t, int64_t r, float *dst) {
  int64_t d = t.rowLength();
  if (!t.hasContiguousRows()) {
    for (int64_t j = 0; j < d; ++j)
      dst[j] = loadFloat(t, r * d + j);
    return;
  }
  const char *p = static_cast<const char *>(t.buffer()->data) +
                  t.rowOffset(r) * dtypeSize(t.dtype());
  switch (t.dtype()) {
  case DType::F32:
    std::memcpy(dst, p, d * sizeof(float));
    return;
  case DType::BF16:
    for (int64_t j = 0; j < d; ++j) {
      uint16_t b;
      std::memcpy(&b, p + 2 * j, 2);
      dst[j] = bf16BitsToFloat(b);
    }
    return;
  default:
    for (int64_t j = 0; j < d; ++j)
      dst[j] = readFloat(t.dtype(), p + j * dtypeSize(t.dtype()));
  }
}

void storeRow(const Tensor &t, int64_t r, const float *src) {
  int64_t d = t.rowLength();
  if (!t.hasContiguousRows()) {
    for (int64_t j = 0; j < d; ++j)
      writeFloat(t.dtype(), t.elementPtr(r * d + j), src[j]);
    return;
  }
  char *p = static_cast<char *>(t.buffer()->data) +
            t.rowOffset(r) * dtypeSize(t.dtype());
  size_t es = dtypeSize(t.dtype());
  for (int64_t j = 0; j < d; ++j)
    writeFloat(t.dtype(), p + j * es, src[j]);
}

std::vector<float> loadAll(const Tensor &t) {
  std::vector<float> out(t.numel());
  int64_t d = t.rowLength();
  for (int64_t r = 0; r < t.numRows(); ++r)
    loadRow(t, r, out.data() + r * d);
  return out;
}

} // namespace llmf::cpu
