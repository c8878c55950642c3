//===- Tensor.h - tensors, owned or views of another tensor ----*- C++ -*-===//
//
// A tensor is an element type, a logical shape, and a strided layout over a
// shared buffer. The layout may have more dims than the shape: a per-head
// view [T*H, D] of q inside a fused qkv tensor [T, (H + 2*Hk) * D] has the
// layout [T, H, D] with strides [row stride of qkv, D, 1], whose row-major
// order is the logical order of [T*H, D]. That is what lets `split` and
// `reshape` be zero-copy and kernels read q and k in place.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_TENSOR_H
#define LLM_FUSION_RUNTIME_TENSOR_H

#include "runtime/DType.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmf {

enum class Device : uint8_t { CPU, CUDA };
std::string_view deviceName(Device d);

/// A block of device memory. Who frees it is the allocator's business (the
/// deleter); tensors only share ownership.
struct Buffer {
  void *data = nullptr;
  size_t bytes = 0;
  Device device = Device::CPU;
  std::function<void(Buffer &)> release;
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() {
    if (release)
      release(*this);
  }
};

/// Host buffer from operator new; the simplest owner.
std::shared_ptr<Buffer> allocateHostBuffer(size_t bytes);

using Shape = std::vector<int64_t>;
std::string shapeToString(const Shape &shape);
/// Element count of a concrete shape. Throws Error when a dim is negative or
/// the product does not fit in 64 bits: every size the runtime derives from
/// untrusted input (a plan, a .npy header, --dim) goes through here.
int64_t numElements(const Shape &shape);

/// The most bytes one tensor may take; larger tensors are an Error before
/// anything is allocated. Defaults to the machine's physical memory;
/// fusion-run --max-memory and the fuzzers lower it.
uint64_t tensorByteLimit();
void setTensorByteLimit(uint64_t bytes);
/// Bytes of `numel` elements of `dtype`, checked against overflow and
/// tensorByteLimit(); `what` names the tensor in the error.
size_t checkedTensorBytes(int64_t numel, DType dtype, const std::string &what);

class Tensor {
public:
  Tensor() = default;
  /// A contiguous tensor over `buffer` starting at element `offset`.
  Tensor(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer,
         int64_t offset = 0);

  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return numElements(shape_); }
  Device device() const { return buffer_ ? buffer_->device : Device::CPU; }
  bool defined() const { return buffer_ != nullptr; }
  const std::shared_ptr<Buffer> &buffer() const { return buffer_; }

  /// The strided layout (in elements), row-major over the logical order.
  const Shape &layoutSizes() const { return layoutSizes_; }
  const Shape &layoutStrides() const { return layoutStrides_; }
  int64_t offset() const { return offset_; }
  bool isContiguous() const;

  /// Element offset (from the buffer start) of the element with row-major
  /// logical index `linear`.
  int64_t elementOffset(int64_t linear) const;
  /// Pointer to element `linear` (any layout).
  void *elementPtr(int64_t linear) const;
  void *data() const;

  /// Rows of the last logical dim: true when every row of `shape().back()`
  /// elements is contiguous in memory, the form row kernels take.
  bool hasContiguousRows() const;
  /// Element offset of row r (needs hasContiguousRows()).
  int64_t rowOffset(int64_t row) const { return elementOffset(row * rowLength()); }
  int64_t rowLength() const { return shape_.empty() ? 1 : shape_.back(); }
  int64_t numRows() const { return rowLength() == 0 ? 0 : numel() / rowLength(); }
  /// Row r starts at offset() + (r / rowsPerGroup) * groupStride +
  /// (r % rowsPerGroup) * rowLength: rows of a 2-D strided view
  /// (rowsPerGroup == 1), or heads inside a token of a fused qkv tensor. The
  /// form GPU kernels take; nullopt for any other layout.
  struct RowLayout {
    int64_t rowsPerGroup = 1;
    int64_t groupStride = 0;
  };
  std::optional<RowLayout> rowLayout() const;

  /// Zero-copy row-major reinterpretation, or nullopt when the layout cannot
  /// express it (then the caller copies).
  std::optional<Tensor> reshapeView(const Shape &newShape) const;
  /// Zero-copy slice [start, start + size) along logical dim `dim`, or
  /// nullopt when the layout cannot express it.
  std::optional<Tensor> sliceView(int64_t dim, int64_t start,
                                  int64_t size) const;

  /// The same layout over another buffer (a copy of this one's bytes on
  /// another device, say).
  Tensor rebased(std::shared_ptr<Buffer> buffer) const {
    Tensor t = *this;
    t.buffer_ = std::move(buffer);
    return t;
  }

  std::string describe() const;

private:
  DType dtype_ = DType::F32;
  Shape shape_;
  Shape layoutSizes_, layoutStrides_;
  std::shared_ptr<Buffer> buffer_;
  int64_t offset_ = 0;

  void normalizeLayout();
};

/// Loads element `linear` of a float tensor as f32 (CPU only).
float loadFloat(const Tensor &t, int64_t linear);
/// Loads element `linear` of an integer tensor (CPU only).
int64_t loadInt(const Tensor &t, int64_t linear);
/// Reads a raw element at a pointer and widens it to f32.
float readFloat(DType t, const void *p);
/// Rounds an f32 to `t` and stores it at `p` (one rounding).
void writeFloat(DType t, void *p, float v);
void writeInt(DType t, void *p, int64_t v);

/// A tensor viewed as [outer, extent, inner] around one dim (negative
/// counts from the end): what reductions and softmax over a dim iterate.
struct AroundDim {
  int64_t outer = 1, extent = 1, inner = 1;
  AroundDim(const Tensor &x, int64_t dim) {
    int64_t rank = x.rank();
    dim = dim < 0 ? dim + rank : dim;
    for (int64_t d = 0; d < dim; ++d)
      outer *= x.dim(d);
    for (int64_t d = dim + 1; d < rank; ++d)
      inner *= x.dim(d);
    extent = x.dim(dim);
  }
};

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_TENSOR_H
