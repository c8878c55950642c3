//===- Inputs.cpp - role-aware random inputs -----------------------------===//

#include "runtime/Inputs.h"
#include "runtime/Error.h"
#include "runtime/Parallel.h"

#include <cmath>

namespace llmf {
namespace {

/// splitmix64: small, fast, the same on every platform, and counter-based:
/// the state after k draws is the seed plus k golden-ratio steps, so a
/// chunk of elements can start at its own offset (see skip).
struct Rng {
  static constexpr uint64_t kStep = 0x9e3779b97f4a7c15ULL;
  uint64_t state;
  void skip(uint64_t draws) { state += draws * kStep; }
  uint64_t next() {
    uint64_t z = (state += kStep);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

} // namespace

Shape bindDynamicDims(const Shape &shape, int64_t dim) {
  Shape out = shape;
  for (int64_t &d : out)
    if (d < 0)
      d = dim;
  return out;
}

std::vector<Tensor> randomInputs(const PlanFunction &fn, int64_t dim,
                                 uint64_t seed, int rank) {
  std::vector<Tensor> inputs;
  for (size_t a = 0; a < fn.inputs.size(); ++a) {
    const PlanInput &in = fn.inputs[a];
    const TensorType &type = fn.buffers[in.buffer].type;
    Shape shape = bindDynamicDims(type.shape, dim);
    std::string what = "input " + std::to_string(a) + " (" + type.str() + " with dynamic dims = " +
                       std::to_string(dim) + ")";
    int64_t n = 0;
    try {
      n = numElements(shape);
    } catch (const Error &e) {
      fail(what, ": ", e.what());
    }
    Tensor t(type.dtype, shape,
             allocateHostBuffer(checkedTensorBytes(n, type.dtype, what)));
    // Index arguments of a dynamic gathered dim draw from [0, dim).
    int64_t indexBound = in.indexBound == kDynamicIndexBound ? dim : in.indexBound;
    if (in.role == InputRole::Indices && in.indexBound != 0 && indexBound < 1 && n > 0)
      fail(what, ": indices into an empty dim cannot be drawn");
    const Rng base{seed * 0x100000001b3ULL + static_cast<uint64_t>(rank) * 0x9e3779b9ULL +
                   a * 0x85ebca6bULL + 1};
    double fanIn = shape.empty() ? 1.0 : static_cast<double>(std::max<int64_t>(shape.back(), 1));
    char *data = static_cast<char *>(t.data());
    size_t elemSize = dtypeSize(type.dtype);
    auto write = [&](Rng &rng, void *p) {
      if (!isFloat(type.dtype)) {
        int64_t bound = in.role == InputRole::Indices && indexBound > 0 ? indexBound : 16;
        writeInt(type.dtype, p, static_cast<int64_t>(rng.next() % bound));
        return;
      }
      double v = 0.0;
      switch (in.role) {
      case InputRole::Activation: v = rng.normal(); break;
      case InputRole::Logits: v = 1.5 * rng.normal(); break;
      case InputRole::NormWeight: v = rng.uniform(0.5, 1.5); break;
      case InputRole::LinearWeight: v = rng.normal() / std::sqrt(fanIn); break;
      case InputRole::Bias: v = rng.uniform(-0.1, 0.1); break;
      case InputRole::Scale: v = rng.uniform(0.01, 0.02); break;
      case InputRole::Indices: v = rng.normal(); break;
      }
      writeFloat(type.dtype, p, static_cast<float>(v));
    };
    // Every element of one input takes the same number of draws (counted on
    // a probe), so a chunk skips to its first element and the values do not
    // depend on the split.
    uint64_t drawsPerElement = 0;
    if (n > 0) {
      Rng probe = base;
      alignas(8) char scratch[8];
      write(probe, scratch);
      for (Rng r = base; r.state != probe.state; r.skip(1))
        ++drawsPerElement;
    }
    parallelFor(n, 64, [&](int64_t begin, int64_t end) {
      Rng rng = base;
      rng.skip(static_cast<uint64_t>(begin) * drawsPerElement);
      for (int64_t i = begin; i < end; ++i)
        write(rng, data + i * elemSize);
    });
    inputs.push_back(t);
  }
  return inputs;
}

} // namespace llmf
